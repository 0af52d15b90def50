/*
 * sync_parent_dir(): see syncdir.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "syncdir.h"

int
sync_parent_dir(const char *path)
{
	char	 d[PATH_MAX];
	char	*slash;
	int	 fd, ret, save;

	if (strlcpy(d, path, sizeof(d)) >= sizeof(d)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(d, '/')) == NULL)
		strlcpy(d, ".", sizeof(d));
	else if (slash == d)
		d[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	ret = fsync(fd);
	save = errno;
	close(fd);
	errno = save;
	return ret;
}
