/*
 * Durable renames: a file written beside its target, synced, renamed
 * over it, and then the directory synced, so that the new name survives
 * a crash.  Shared by the daemon's state files and /etc/localtime.
 */
#ifndef NTPD_SYNCDIR_H
#define NTPD_SYNCDIR_H

/* fsync() the directory holding path; -1 with errno on failure. */
int	sync_parent_dir(const char *path);

#endif /* NTPD_SYNCDIR_H */
