# ntpd, ntpctl: a privilege-separated NTP daemon for Linux.
#
#   make                 build ntpd and ntpctl into $(O)/
#   make check           install what is missing, build, run every test
#   make demo            install what is missing, run the network demo
#   make deps            install the Debian packages build and tests need
#   make install         PREFIX=/usr/local DESTDIR= honoured
#   make check-sanitize  unit tests under AddressSanitizer + UBSan

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
EXAMPLEDIR	?= $(PREFIX)/share/doc/ntpd/examples
# Where systemd looks, under /usr (PREFIX=/usr) and /usr/local alike.
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
DESTDIR		?=

O		?= build
CC		?= cc
PKG_CONFIG	?= pkg-config
PKGS		:= libbsd-overlay libsodium libseccomp

CFLAGS		?= -O2 -g
WARNINGS	:= -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		   -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
		   -Wvla -Wundef
HARDENING	:= -fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2
ALL_CFLAGS	:= -std=c11 -D_GNU_SOURCE $(WARNINGS) $(HARDENING) \
		   -Icommon -Intpd $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
		   $(CFLAGS)
ALL_LDFLAGS	:= -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS		:= $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm

ifeq ($(SANITIZE),1)
ALL_CFLAGS	+= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=all -U_FORTIFY_SOURCE -DNTPD_SANITIZE
ALL_LDFLAGS	+= -fsanitize=address,undefined
endif

# Every source file of a directory is part of its program: a new module
# needs no edit here.
COMMON_SRCS	:= $(sort $(wildcard common/*.c))
NTPD_SRCS	:= $(sort $(wildcard ntpd/*.c))
NTPCTL_SRCS	:= $(sort $(wildcard ntpctl/*.c))

COMMON_OBJS	:= $(COMMON_SRCS:%.c=$(O)/obj/%.o)
NTPD_OBJS	:= $(NTPD_SRCS:%.c=$(O)/obj/%.o)
NTPCTL_OBJS	:= $(NTPCTL_SRCS:%.c=$(O)/obj/%.o)
# Everything of ntpd except main(), for the unit tests to link against.
NTPD_LIB_OBJS	:= $(filter-out $(O)/obj/ntpd/ntpd.o,$(NTPD_OBJS))

UNIT_TESTS	:= $(sort $(notdir $(basename $(wildcard regress/unit/test_*.c))))
UNIT_BINS	:= $(UNIT_TESTS:%=$(O)/regress/%)
CHECK_LIBS	:= $(shell $(PKG_CONFIG) --libs check)

# Keep test objects: a test binary's own object is not an intermediate.
.SECONDARY:

.PHONY: all check unit-check integration-check check-man check-sanitize \
	demo deps \
	install uninstall clean lint fuzz bench bench-serve bench-sim

all: $(O)/ntpd $(O)/ntpctl

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/libcommon.a: $(COMMON_OBJS)
	$(AR) rcs $@ $^

$(O)/ntpd: $(NTPD_OBJS) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/ntpctl: $(NTPCTL_OBJS) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# Tools for the integration tests: a raw control-socket client, an NTP
# client and an NTP server that send what real ones never would.
TEST_TOOLS	:= $(O)/regress/ctlraw $(O)/regress/ntpprobe \
		   $(O)/regress/fakentp

$(TEST_TOOLS): $(O)/regress/%: $(O)/obj/regress/integration/%.o \
    $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The clock shim: an LD_PRELOAD library that gives a process a virtual
# kernel clock (regress/clock/clockshim.c), with position-independent
# objects of its own, no sanitizer (its runtime would have to be loaded
# first) and its NULL checks kept where glibc declares an argument
# nonnull; shimtest drives it.  fakentp -c and test_vclock read its log
# through the model, vclock.o.
CLOCKSHIM_CFLAGS := $(filter-out -fPIE -fsanitize=%,$(ALL_CFLAGS)) -fPIC \
		    -fno-delete-null-pointer-checks
CLOCK_TOOLS	:= $(O)/regress/clockshim.so $(O)/regress/shimtest
VCLOCK_OBJ	:= $(O)/obj/regress/clock/vclock.o

$(O)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CLOCKSHIM_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/regress/clockshim.so: $(O)/pic/regress/clock/clockshim.o
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,relro,-z,now $(LDFLAGS) -o $@ $^

$(O)/regress/shimtest: $(O)/obj/regress/clock/shimtest.o $(VCLOCK_OBJ) \
    $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/regress/fakentp $(O)/regress/test_vclock: $(VCLOCK_OBJ)

integration-check: $(CLOCK_TOOLS)

-include $(wildcard $(O)/pic/regress/clock/*.d)

$(O)/regress/test_%: $(O)/obj/regress/unit/test_%.o $(NTPD_LIB_OBJS) \
    $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# The ntpctl modules a unit test can link: they need neither main() in
# ntpctl.o nor its requests to the daemon.
NTPCTL_LIB_OBJS	:= $(O)/obj/ntpctl/plot.o $(O)/obj/ntpctl/fmt.o
$(O)/regress/test_plot: $(NTPCTL_LIB_OBJS)

MANPAGES	:= ntpd/ntpd.8 ntpd/ntpd.conf.5 ntpctl/ntpctl.8

check: deps
	$(MAKE) unit-check
	$(MAKE) integration-check
	$(MAKE) check-man

check-man:
	mandoc -Tlint -Wwarning $(MANPAGES)

# As root, the unit tests run without CAP_SYS_TIME: whatever a test does,
# it cannot move this machine's clock.
CLOCK_GUARD	:= $(shell [ "$$(id -u)" -eq 0 ] && \
		   echo setpriv --bounding-set=-sys_time)

unit-check: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $(CLOCK_GUARD) $$t; done

integration-check: all $(TEST_TOOLS)
	@O=$(O) regress/integration/run-all

check-sanitize: deps
	$(MAKE) O=build-sanitize SANITIZE=1 unit-check

# deps first, then a fresh make: the flags above come from pkg-config,
# which deps may just have installed.
demo: deps
	$(MAKE) all
	@O=$(O) regress/demo/demo

deps:
	@etc/deps.sh

lint:
	shellcheck -x -S warning regress/integration/*.sh regress/integration/run-all \
	    regress/sim/clknetsim.sh \
	    regress/demo/demo regress/bench/*.sh etc/deps.sh .ci/run

# The units name the programs where they are installed.  ntpd.conf is an
# example (documentation addresses), not a configuration to start with.
UNITS		:= ntpd.service ntpctl-exporter.service

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(EXAMPLEDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(O)/ntpd $(O)/ntpctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 ntpd/ntpd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 ntpd/ntpd.8 ntpctl/ntpctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 etc/ntpd.conf etc/grafana-ntpd.json \
	    $(DESTDIR)$(EXAMPLEDIR)/
	@set -e; for u in $(UNITS); do \
	    echo "install etc/$$u $(DESTDIR)$(UNITDIR)/$$u"; \
	    sed 's|/usr/local/sbin/|$(SBINDIR)/|g' etc/$$u \
		>$(DESTDIR)$(UNITDIR)/$$u; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	install -m 0644 etc/sysusers-ntpd.conf \
	    $(DESTDIR)$(SYSUSERSDIR)/ntpd.conf
	install -m 0644 etc/tmpfiles-ntpd.conf \
	    $(DESTDIR)$(TMPFILESDIR)/ntpd.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ntpd $(DESTDIR)$(SBINDIR)/ntpctl \
	    $(DESTDIR)$(MANDIR)/man5/ntpd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/ntpd.8 $(DESTDIR)$(MANDIR)/man8/ntpctl.8 \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) \
	    $(DESTDIR)$(SYSUSERSDIR)/ntpd.conf $(DESTDIR)$(TMPFILESDIR)/ntpd.conf
	rm -rf $(DESTDIR)$(EXAMPLEDIR)

# Benchmarks print figures and assert nothing.  bench runs the module
# costs; bench-serve puts ntpd's server and chronyd through the same load
# over veth (as root, about 80 s).
BENCHES		:= bench_acl_ratelimit

$(O)/bench/bench_acl_ratelimit: regress/bench/bench_acl_ratelimit.c \
    $(NTPD_LIB_OBJS) $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(O)/bench/ntpload: $(O)/obj/regress/bench/ntpload.o $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

bench: $(BENCHES:%=$(O)/bench/%)
	@set -e; for b in $^; do echo "== $$b"; $$b; done

bench-serve: deps
	$(MAKE) all $(O)/bench/ntpload
	O=$(O) sh regress/bench/serve-bench.sh

# bench-sim: the engine's own modules, in the order client.c and sync.c
# drive them, against a simulated clock, network and servers
# (regress/sim), a simulated day per scenario and seed, beside chrony's
# figures.  test_sim runs a short one and checks it; main.o is the
# bench's alone.
SIM_OBJS	:= $(patsubst %.c,$(O)/obj/%.o,$(filter-out regress/sim/main.c,\
		   $(sort $(wildcard regress/sim/*.c))))

$(O)/bench/sim: $(O)/obj/regress/sim/main.o $(SIM_OBJS) $(NTPD_LIB_OBJS) \
    $(O)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/regress/test_sim: $(SIM_OBJS) $(VCLOCK_OBJ)

bench-sim: $(O)/bench/sim
	$(CLOCK_GUARD) $(O)/bench/sim

# Coverage-guided fuzzing of the decoders (clang's libFuzzer), for
# FUZZ_SECONDS each; not part of check, as it runs for as long as asked.
FUZZ_SECONDS	?= 60
FUZZERS		:= fuzz_ntp

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang" \
	    "(apt-get install clang)"; exit 1; }
	@mkdir -p $(O)/fuzz
	@set -e; for f in $(FUZZERS); do \
	    clang -std=c11 -D_GNU_SOURCE -g -O1 $(WARNINGS) -Icommon \
	    $$($(PKG_CONFIG) --cflags libbsd-overlay) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $(O)/fuzz/$$f regress/fuzz/$$f.c common/ntp.c \
	    $$($(PKG_CONFIG) --libs libbsd-overlay); \
	    echo "== $$f for $(FUZZ_SECONDS) s"; \
	    $(O)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=1024; \
	done

clean:
	rm -rf $(O) build-sanitize

-include $(shell find $(O)/obj -type f -name '*.d' 2>/dev/null)
