/*
 * ntpd: command line, configuration, then the parent process, or with
 * -S the single process of standalone.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ntpd.h"
#include "standalone.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ntpd [-dnvx] [-f file]\n"
	    "       ntpd -S [-nvx] [-f file]\n");
	exit(1);
}

int
main(int argc, char *argv[], char *envp[])
{
	struct ntpd_opts	 opts;
	struct ntpd_conf	*conf;
	int			 ch, standalone = 0;

	proc_title_init(argc, argv);
	setproctitle_init(argc, argv, envp);
	memset(&opts, 0, sizeof(opts));
	opts.conf_path = NTPD_CONF_PATH;

	while ((ch = getopt(argc, argv, "df:nSvx")) != -1) {
		switch (ch) {
		case 'd':
			opts.foreground = 1;
			break;
		case 'f':
			opts.conf_path = optarg;
			break;
		case 'n':
			opts.check_only = 1;
			break;
		case 'S':
			standalone = 1;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'x':
			opts.no_clock = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* Until the parent settles, everything goes to stderr. */
	log_init(1, opts.verbose, "ntpd");
	if ((conf = config_parse_file(opts.conf_path)) == NULL)
		exit(1);
	if (standalone && standalone_check_conf(conf, opts.conf_path) == -1)
		exit(1);
	if (opts.check_only) {
		fprintf(stderr, "%s: configuration OK\n", opts.conf_path);
		config_free(conf);
		exit(0);
	}
	if (standalone)
		return standalone_main(conf, &opts);
	if (geteuid() != 0) {
		fprintf(stderr, "ntpd: need root privileges\n");
		exit(1);
	}
	return parent_main(conf, &opts);
}
