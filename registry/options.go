package registry

import (
	"log/slog"
	"time"
)

// Option configures a Registry.
type Option func(*config)

type config struct {
	dir            string
	logger         *slog.Logger
	notifier       Notifier
	startTimeout   time.Duration
	describeTime   time.Duration
	healthInterval time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	preferred      map[string]string // stream type -> plugin name
	checksums      map[string]string // file name -> hex SHA-256
	requirePinned  bool
	lockFile       string
	lockFileSet    bool
	allowWritable  bool
	env            []string
}

func defaultConfig() config {
	return config{
		dir:            "plugins",
		logger:         slog.New(slog.DiscardHandler),
		notifier:       discard{},
		startTimeout:   5 * time.Second,
		describeTime:   5 * time.Second,
		healthInterval: 2 * time.Second,
		backoffMin:     100 * time.Millisecond,
		backoffMax:     10 * time.Second,
		preferred:      map[string]string{},
		checksums:      map[string]string{},
	}
}

// WithDir sets the plugin directory (default "plugins").
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithLogger sets the logger; plugin log lines are folded into it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l.With("component", "registry") }
}

// WithNotifier sets where plugin notifications are re-posted (the host's
// notification center); by default they go nowhere but to each stream's
// owner (see Stream.Observe).
func WithNotifier(n Notifier) Option {
	return func(c *config) {
		if n != nil {
			c.notifier = n
		}
	}
}

// WithStartTimeout bounds each plugin's start, handshake included (default 5 s).
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }

// WithDescribeTimeout bounds `PLUGIN describe` (default 5 s).
func WithDescribeTimeout(d time.Duration) Option { return func(c *config) { c.describeTime = d } }

// WithHealthInterval sets how often each plugin is pinged (default 2 s).
func WithHealthInterval(d time.Duration) Option { return func(c *config) { c.healthInterval = d } }

// WithRestartBackoff sets the first and the longest restart delay after a
// crash (default 100 ms and 10 s; the delay doubles each crash in a row).
func WithRestartBackoff(min, max time.Duration) Option {
	return func(c *config) { c.backoffMin, c.backoffMax = min, max }
}

// WithPreferredPlugin makes the plugin named plugin serve streamType when
// several plugins declare it.
func WithPreferredPlugin(streamType, plugin string) Option {
	return func(c *config) { c.preferred[streamType] = plugin }
}

// WithChecksum pins the binary with file name file (for example
// "sipstreams-plugin-audio") to a hex SHA-256; a binary whose hash differs is
// refused.
func WithChecksum(file, sha256hex string) Option {
	return func(c *config) { c.checksums[file] = sha256hex }
}

// WithRequirePinned refuses every binary that has no WithChecksum pin.
func WithRequirePinned(b bool) Option { return func(c *config) { c.requirePinned = b } }

// WithLockFile sets the lock file the plugins are pinned to (see Lock);
// the default is DefaultLockFile of the plugin directory, beside it, and ""
// turns pinning by lock file off. While the file exists, Discover refuses
// a plugin binary that it does not list (ErrUnlisted), whose SHA-256
// differs from its entry (ErrChecksum; the reason names the lock file and
// both sums) or whose entry cannot pin it, and a restart re-checks the
// binary. A path that does not exist pins nothing; a file that is not a
// lock file, or that other users may write, fails Discover.
func WithLockFile(path string) Option {
	return func(c *config) { c.lockFile, c.lockFileSet = path, true }
}

// WithAllowWritable loads plugins from a plugin directory, and binaries,
// that users other than the owner may write. By default such a directory
// or binary is refused (ErrWritable): whoever can write it can replace the
// code the host runs.
func WithAllowWritable(b bool) Option { return func(c *config) { c.allowWritable = b } }

// WithEnv adds environment variables ("K=V") for plugin processes, on top of
// the host's own: a variable the host's environment has too takes the value
// given here (the host CLI gives its plugins its GOMAXPROCS this way).
func WithEnv(env ...string) Option { return func(c *config) { c.env = append(c.env, env...) } }
