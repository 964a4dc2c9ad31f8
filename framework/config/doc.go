// Package config holds the settings of the SIP SIMPLE client framework
// host: the global settings, the accounts, and the human-editable text
// format in which storage keeps them. It mirrors the reference's
// SIPSimpleSettings and Account settings where they matter to sessions and
// streams (shared/reference/sipsimple-behaviour.md §6.3, §6.4).
//
// # Concepts
//
// A [Document] is everything that is stored: the global [Settings] and the
// [Account] list. Settings and accounts are plain structs with defaults
// ([Default], [NewAccount], [PeerToPeerAccount]) and Validate methods;
// nothing in this package does I/O (see framework/storage for that).
//
// Settings are named by dotted keys that follow the struct groups, as in
// the reference: "rtp.port_range", "audio.sample_rate", "tls.ca_list".
// The same names are used in the configuration file, in *SettingError and
// in the flattened map that is passed to stream plugins with each call
// ([Settings.Flatten], [Account.Flatten]), where an account's values
// override the global ones.
//
// An account may leave some settings empty to inherit the global value:
// rtp.audio_codec_list, rtp.srtp_encryption and msrp.transport. Setting
// rtp.encryption_enabled to false turns SRTP off for the account whatever
// the policy.
//
// The peer-to-peer account, ID [PeerToPeerAccountID] ("bonjour@local"),
// plays the role of the reference's BonjourAccount: it needs no server,
// never registers, has no credentials, ICE, STUN or MSRP relay
// ([Account.Validate] refuses those), and always exists even when the
// document does not list it ([Document.Account]). It is the default
// default_account, as in the reference.
//
// Codec names are not checked against a fixed list: codecs are provided by
// the audio plugin at run time (a new codec ships in a new plugin build,
// without rebuilding the host), so any RTP encoding name is accepted, and
// the audio plugin reports the names it does not know. Empty lists and
// duplicates are refused.
//
// # Validation
//
// Validate methods return nil or one *SettingError per wrong setting,
// joined with errors.Join; errors.Is(err, ErrInvalidSetting) and
// errors.As(err, &settingErr) work on the result. A SettingError names the
// account (if any), the dotted key, the value and the reason:
//
//	config: invalid setting rtp.port_range = "50001-50500": start must be even (RTP uses the even port of each pair)
//
// # File format
//
// The configuration file is UTF-8 text of lines; "\r\n" line ends and a
// leading byte order mark are accepted.
//
//	# sipstreams configuration
//	user_agent = sipstreams 0.1
//	rtp:
//	    port_range = 50000-50500
//	    audio_codec_list = opus, G722, PCMU, PCMA
//	accounts:
//	    alice@example.com:
//	        display_name = Alice
//	        auth:
//	            password = secret
//
// The rules:
//
//   - Blank lines and lines whose first non-blank character is '#' are
//     ignored. There are no comments at the end of a line: '#' is part of
//     a value (passwords may contain it).
//   - A line "name = value" sets a setting of the enclosing group; it is
//     split at the first '=' and blanks (spaces, tabs) around the name and
//     the value are dropped.
//   - A line "name:" opens a group. The group's lines follow, indented
//     deeper than its "name:" line, all by the same number of spaces;
//     the group ends at the first line indented less. Indentation is by
//     spaces only (a tab is an error); any consistent depth works and
//     Marshal writes four spaces. A group may be empty.
//   - The top level holds the global settings, their groups (audio, rtp,
//     sip, msrp, chat, tls, file_transfer, desktop_sharing, logs) and the
//     group "accounts", which
//     holds one group per account named by the account's ID
//     ("alice@example.com:"). An account ID is user@domain; it may not
//     contain '=' (the configuration format needs it).
//   - Every name must be known and may appear once per group; unknown and
//     duplicate names are errors, so typing mistakes are reported.
//   - Settings the file does not mention keep their defaults, for
//     accounts those of [NewAccount].
//
// Values are parsed by the setting's type:
//
//   - strings as written; a value that starts with '"' is a Go quoted
//     string ("\tsecret with blanks "), which Marshal writes for strings
//     that would not read back otherwise (leading or trailing blanks,
//     control characters, invalid UTF-8, a leading '"');
//   - booleans: true/false, yes/no, on/off, in any case;
//   - whole numbers in decimal;
//   - durations: seconds ("30", "1.5") or Go duration syntax ("1m30s",
//     "500ms"); Marshal writes seconds;
//   - port ranges: "START-END";
//   - lists: comma-separated, blanks around elements dropped, an empty
//     value is an empty list; an element containing ',' or blanks at its
//     ends is quoted as above.
//
// A value that does not parse as its type ("port_range = abc") is a
// *SyntaxError, as is any other problem of form; its Error is
// "file:line: msg". Whether a value is allowed (a port range of
// 60000-50000) is checked by Validate, not by [Unmarshal].
//
// [Marshal] writes every setting, defaults included, in a fixed order, so
// that the file documents every setting and Unmarshal(Marshal(d)) equals d
// for every valid document d (with empty lists as nil). Hand edits are
// preserved only as values: Marshal does not keep comments or order.
//
// # API
//
//   - [Settings], [Default], [Settings.Validate], [Settings.Flatten],
//     [UserAgent];
//   - [Account], [NewAccount], [PeerToPeerAccount], [Account.Validate],
//     [Account.Flatten] and the Effective… accessors;
//   - [Document], [NewDocument], [Document.Validate], [Document.Account],
//     Clone methods for deep copies;
//   - [Marshal], [Unmarshal];
//   - [PortRange], [Transport], [SRTPEncryption];
//   - errors: [ErrInvalidSetting], [SettingError], [ErrSyntax],
//     [SyntaxError].
package config
