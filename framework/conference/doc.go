// Package conference reads and writes the conference state documents of
// the SIP conference event package (RFC 4575) and keeps the state a
// subscriber builds from them, as a conferencing client (RFC 4579 §6,
// the reference's ConferenceHandler, sipsimple-behaviour.md §2.9) needs.
//
// # Documents
//
// [Parse] reads an application/conference-info+xml body ([ContentType])
// into an [Info]: the conference entity, the document's [State] (full,
// partial or deleted) and version (RFC 4575 §5.1); the conference
// description (subject, display text, URIs, available media, §5.3); the
// conference-state counters (§5.5); the users (§5.6) with their roles,
// each with endpoints (§5.7: status, joining and disconnection method and
// info, the SIP dialog in call-info) and their media (§5.7.9: id, type,
// label, status). Elements of other namespaces and the parts of the
// schema not modelled (host-info, sidebars) are skipped.
//
// Parse is bounded: a body over [Limits].MaxSize, or with more user,
// endpoint or media elements than its limits, is refused with a
// [*LimitError] before any value is built; the defaults are
// [DefaultLimits], changed with [WithLimits]. encoding/xml expands no
// entity a document declares, so an entity bomb ("billion laughs") or an
// external entity is refused as [ErrBadXML]. Other content errors wrap
// [ErrMalformed].
//
// [Info.Marshal] writes a document in the schema's order, for a focus (or
// a test playing one); what Parse reads, Marshal writes back to a
// document that parses to the same value.
//
// # State
//
// A [Tracker] applies the documents of one subscription in order (RFC 4575
// §4.6): full replaces, partial merges by user entity, endpoint entity and
// media id, deleted removes; an old version is refused with [ErrOutdated]
// (drop the notification) and a partial one that skips a version with
// [ErrVersionGap] (refresh the subscription to get a full document).
// [Tracker.Update] parses and applies a NOTIFY body in one call and
// returns the new state; [Info.FindDialog] finds the participant's own
// endpoint in it by the dialog it has with the focus.
package conference
