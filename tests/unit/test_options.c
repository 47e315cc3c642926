/* OVERSHIM_OPTIONS parsing: defaults, every key of the table, and malformed input. */
#include <criterion/criterion.h>
#include <string.h>

#include "options.h"

Test(options, defaults)
{
    struct osh_options o;
    options_defaults(&o);
    cr_expect_str_eq(o.log, "overshim_pid%p.log");
    cr_expect_str_eq(o.json, "overshim_pid%p.jsonl");
    cr_expect_eq(o.report_at_exit, 0);
    cr_expect_eq(o.max_reports, 8);
    cr_expect_eq(o.stack_depth, 64);
    cr_expect_eq(o.verbosity, 1);
    cr_expect_eq(o.symbols, 1);
    cr_expect_eq(o.regions, 1);
    cr_expect_eq(o.hs_err, 1);
}

Test(options, java_report_keys)
{
    struct osh_options o;
    char err[256];
    options_defaults(&o);
    cr_assert_eq(options_parse(&o, "symbols=0:regions=no:hs_err=false", err, sizeof err), 0, "%s", err);
    cr_expect_eq(o.symbols, 0);
    cr_expect_eq(o.regions, 0);
    cr_expect_eq(o.hs_err, 0);
    cr_expect_eq(options_parse(&o, "symbols=2", err, sizeof err), -1);
    cr_expect(strstr(err, "symbols") != NULL, "%s", err);
}

Test(options, every_key)
{
    struct osh_options o;
    char err[256];
    options_defaults(&o);
    cr_assert_eq(options_parse(&o, "log=/tmp/x%p.log:json=stderr:report_at_exit=true:max_reports=2k:"
                                   "stack_depth=32:verbosity=2:help=0:flight=/tmp/f%p:trace=t%p:trace_max=1M",
                               err, sizeof err),
                 0, "%s", err);
    cr_expect_str_eq(o.log, "/tmp/x%p.log");
    cr_expect_str_eq(o.json, "stderr");
    cr_expect_eq(o.report_at_exit, 1);
    cr_expect_eq(o.max_reports, 2048);
    cr_expect_eq(o.stack_depth, 32);
    cr_expect_eq(o.verbosity, 2);
    cr_expect_str_eq(o.flight, "/tmp/f%p");
    cr_expect_str_eq(o.trace, "t%p");
    cr_expect_eq(o.trace_max, 1 << 20);
    cr_expect_eq(options_parse(&o, "", err, sizeof err), 0, "empty is valid");
    cr_expect_eq(options_parse(&o, "report_at_exit=0::", err, sizeof err), 0, "empty pairs are skipped");
}

Test(options, malformed_name_the_bad_text)
{
    static const char *const bad[] = {
        "log",                      "=1",           "nosuchkey=1",       "report_at_exit=maybe",
        "max_reports=-1",           "max_reports=", "max_reports=12x",   "stack_depth=0",
        "stack_depth=1000",         "verbosity=9",  "log=",              "json=",
        "report_at_exit=1:bogus=2", "max_reports=99999999999999999999", "max_reports=1T", "verbosity=-",
        "dir=relative", "syslog=maybe", "follow_exec=2",
        "_lm\nx" /* found by fuzz_options: the echoed text must not break the line */, "log=a:\x01=\x7f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct osh_options o;
        char err[256] = "";
        options_defaults(&o);
        cr_expect_eq(options_parse(&o, bad[i], err, sizeof err), -1, "accepted '%s'", bad[i]);
        cr_expect(strlen(err) > 10, "no message for '%s'", bad[i]);
        cr_expect(strchr(err, '\n') == NULL, "one line for '%s'", bad[i]);
    }
    char err[256];
    struct osh_options o;
    options_defaults(&o);
    options_parse(&o, "report_at_exit=1:bogus=2", err, sizeof err);
    cr_expect(strstr(err, "bogus") != NULL, "the message names the bad key: %s", err);
    options_parse(&o, "max_reports=12x", err, sizeof err);
    cr_expect(strstr(err, "12x") != NULL, "the message names the bad value: %s", err);
}

Test(options, help_lists_every_key)
{
    char buf[8192];
    options_help(buf, sizeof buf);
    const char *keys[] = {"log",       "json",     "report_at_exit", "max_reports", "stack_depth", "verbosity",
                          "help",      "simulate", "kernel",         "inject",      "dir",         "syslog",
                          "follow_exec", "overcommit_memory", "max_map_count", "journal", "flight", "trace",
                          "trace_max", "symbols", "regions", "hs_err"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) cr_expect(strstr(buf, keys[i]) != NULL, "%s", keys[i]);
}
