/* The systemd journal's native protocol: one datagram of KEY=value lines to its socket
 * (/run/systemd/journal/socket), so that `journalctl OVERSHIM_CAUSE=overcommit_never`
 * finds every refusal with its fields. A value holding a newline takes the binary form
 * (KEY, newline, its length as 64-bit little endian, the value, newline). Raw system
 * calls, no allocation. */
#ifndef OVERSHIM_JOURNAL_H
#define OVERSHIM_JOURNAL_H

/* The fixed MESSAGE_ID of overshim's refusal summaries (journalctl MESSAGE_ID=...). */
#define OVERSHIM_JOURNAL_MESSAGE_ID "aced0b25b23b4a59b844fe10afbb5c4e"

struct journal_field {
    const char *key;   /* upper case, digits and '_' (the protocol's rule) */
    const char *value;
};

/* 0 when the datagram was sent; -1 (nothing sent) when the socket is not there or the
 * fields do not fit in one datagram. */
int journal_send(const char *socket_path, const struct journal_field *f, int n);

#endif
