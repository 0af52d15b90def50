/*
 * Access control for the servers: allow and deny rules by address or
 * prefix, IPv4 and IPv6, with no I/O.  The rule that matches with the
 * longest prefix decides; nothing matching means deny.  Rules come in two
 * layers, global and per namespace: at equal prefix length the namespace's
 * rule wins, so a namespace can narrow or widen a global rule exactly.
 */
#ifndef NTPD_ACL_H
#define NTPD_ACL_H

#include <sys/socket.h>
#include <stddef.h>

#include "addr.h"

enum acl_action {
	ACL_DENY,
	ACL_ALLOW,
};

enum acl_layer {
	ACL_GLOBAL,
	ACL_NAMESPACE,
};

struct acl_rule {
	struct cidr	 prefix;
	enum acl_action	 action;
	enum acl_layer	 layer;
	int		 kod;		/* deny: answer with KoD DENY */
	int		 lineno;	/* where the configuration said it */
};

/*
 * A compiled rule set: fixed after acl_add() calls, then read-only and
 * allocation-free to match, as the reply path needs.
 */
struct acl {
	struct acl_rule	*rules;		/* sorted for matching */
	size_t		 nrules;
	size_t		 cap;
};

void		 acl_init(struct acl *);
void		 acl_free(struct acl *);

/*
 * Add a rule.  Returns 0, or -1 with errno: EEXIST when a rule of the
 * same layer has the same prefix (whatever its action: two rules for one
 * prefix cannot both be meant), and *conflict set to it (valid until the
 * next acl_add() or acl_free()); EINVAL for a family other than IPv4 or
 * IPv6, a length beyond it, host bits set, or an unknown action or
 * layer; ENOMEM.  An IPv6 prefix inside ::ffff:0:0/96 is stored as the
 * IPv4 prefix it means (::ffff:10.0.0.0/104 is 10.0.0.0/8).
 */
int		 acl_add(struct acl *, const struct acl_rule *,
		    const struct acl_rule **conflict);

/*
 * The rule that decides for this address, or NULL when none matches
 * (deny).  Never allocates; O(number of rules) at worst.  An IPv4-mapped
 * address (::ffff:a.b.c.d: an IPv4 client on a dual-stack socket) is
 * a.b.c.d, matched by IPv4 rules only; ::/0 does not cover it.
 */
const struct acl_rule *acl_match(const struct acl *, const struct sockaddr *);

/* ACL_ALLOW or ACL_DENY for this address. */
enum acl_action	 acl_check(const struct acl *, const struct sockaddr *);

/*
 * Does any address get ACL_ALLOW?  (No: the listener answers nobody.)
 * Exact: an allow rule that longer or namespace rules cover entirely
 * counts for nothing.  For configuration time: it allocates, and says
 * yes when it cannot.
 */
int		 acl_allows_any(const struct acl *);

#endif /* NTPD_ACL_H */
