// Package registry is the host's MediaStreamRegistry: it finds stream plugin
// binaries in a directory, starts each once as a child process through
// hashicorp/go-plugin, and hands the session layer host-side stream proxies
// that satisfy the same sdk.Stream interface as in-process streams.
//
// # Discovery
//
// Discover scans the plugin directory for executables named
// sipstreams-plugin-*. Each is first asked for its manifest with
// `PLUGIN describe` (no handshake), which is validated (contract version,
// stream types, match rules) and, when pinning is configured, its SHA-256 is
// checked. It is then started with go-plugin (gRPC only, AutoMTLS, raised
// message limits, unix sockets in a short directory) within a bounded start
// timeout, which covers the handshake and the first Describe served over
// gRPC. A binary that is not a plugin, exits at start, never handshakes,
// speaks another contract version or writes noise on stdout is reported with
// the reason (Plugins) and skipped; the others load.
//
// # Pinning
//
// A lock file (Lock, written by MakeLock and `sipstreams plugins lock`)
// pins every plugin binary of the directory, and every codec module in its
// codecs/ directory, by SHA-256, with the name, version and contract
// version each plugin described. It lives beside the directory
// (DefaultLockFile: "bin/plugins" → "bin/plugins.lock"; WithLockFile moves
// it). While it exists Discover refuses, with a reason naming the lock file
// and both sums, a binary that it does not list (ErrUnlisted) or whose
// SHA-256 differs (ErrChecksum), and the listed plugins load as usual; the
// supervisor re-checks a pinned binary before each restart, so a binary
// replaced while the host runs is not run. VerifyLock compares a directory
// with its lock file without running anything (`sipstreams plugins
// verify`). Independently of any lock file, a plugin directory or binary
// that users other than its owner may write (group or other write bit) is
// refused (ErrWritable) unless WithAllowWritable: whoever can write it
// chooses the code the host runs. WithChecksum pins single binaries in
// code.
//
// # Processes
//
// Every plugin process (and its `describe`) is forked from one OS thread
// locked for the registry's lifetime and leads a process group of its own
// (Linux). The registry kills the whole group — on a failed or timed-out
// start, on a crash or hang before a restart, at Close — and, when the
// plugin exits by itself, whatever it left in its group before reaping it.
// It reaps the process itself and reads its stdout and stderr at most
// a second (waitDelay) past its death, so a child that escaped the group and
// holds the pipes cannot block a start, a restart or Close; a plugin that
// does not answer the graceful shutdown at Close is killed after a grace
// period. Whatever one plugin does, the others load and serve.
//
// # Dispatch
//
// Stream types are ordered by priority, highest first, as the reference's
// MediaStreamRegistry does (file transfer before chat, since both claim
// m=message). When two plugins claim one type the higher priority wins, ties
// go to the first file name, and WithPreferredPlugin overrides; every
// conflict is logged. NewFromSDP prefilters an incoming m-line with the
// manifests' match rules and only asks the matching plugins, by priority:
// sdk.ErrUnknownStream tries the next type, anything else stops (the
// reference's Session.init_incoming rules).
//
// # Supervision
//
// go-plugin has no supervision; the registry adds it. Each plugin has one
// supervisor goroutine that watches the process exit, the notification stream
// and a periodic health ping. When the plugin dies, every live stream of it
// gets MediaStreamDidFail (context "plugin", the reason names the crash); End
// on such a stream still posts MediaStreamWillEnd and MediaStreamDidEnd, as
// the session expects. The plugin is restarted with exponential back-off
// through a fresh go-plugin client, and new streams work again. Close ends
// every stream, shuts the plugins down and leaves no child behind; plugins
// also exit by themselves when the host dies (Pdeathsig on Linux, and the
// SDK's parent watch everywhere).
//
// # Notifications
//
// Each plugin streams its notifications over one long-lived gRPC stream; the
// registry re-posts them into a notify.Center with the host-side *Stream
// proxy (or the *Plugin for plugin-scope ones) as sender. The generic
// MediaStream* notifications carry the sdk's typed data (sdk.DidFailData,
// …); type-specific ones carry their JSON data as json.RawMessage.
package registry
