# Makefile for jobconfig, built with PGXS.
#
# Every src/*.c is part of the library; the install script is the
# concatenation of src/sql/*.sql in name order (one file per concern);
# every sql/*.sql is a regression suite, run after sql/setup.sql.

EXTENSION = jobconfig
EXTVERSION = 1.0

MODULE_big = jobconfig
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard $(EXTENSION)--*--*.sql)

REGRESS_SUITES = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS = setup $(filter-out setup,$(REGRESS_SUITES))
REGRESS_OPTS = --inputdir=. --dbname=jobconfig_regress

TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Werror
SHLIB_LINK = -lcurl

# No LLVM bitcode: JIT inlining of these functions gains nothing, and it
# would make clang a build dependency.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql))
	cat $^ > $@

# The regression suites in the order they run, for scripts/test.sh.
print-regress:
	@echo $(REGRESS)
.PHONY: print-regress

# Objects compiled against one PostgreSQL's headers must never be linked
# into a library for another: the stamp holds the version PG_CONFIG names,
# is rewritten only when that changes, and every object depends on it.
PG_VERSION_STAMP = .pg_version
$(shell [ "$$(cat $(PG_VERSION_STAMP) 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' > $(PG_VERSION_STAMP))
EXTRA_CLEAN = $(PG_VERSION_STAMP)
$(OBJS): $(PG_VERSION_STAMP)

# PGXS tracks no header dependencies here: rebuild every object when any
# header changes, rather than link objects built against different structs.
$(OBJS): $(wildcard src/*.h)
