/* What the program is, from what it runs (the JVM's flags until the main class, the
 * systemd unit), names demangled into the caller's buffer without malloc, and the
 * journal option's path rule. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "demangle.h"
#include "diagnose.h"
#include "options.h"
#include "runtime.h"

/* --- the program, from what it runs ---------------------------------------- */

Test(parsers, jvm_flags_until_the_main_class)
{
    static const char cmd[] = "java\0-Xms512m\0-Xmx2g\0-Xss8m\0-XX:ReservedCodeCacheSize=64m\0-cp\0/x/y.jar\0"
                              "-XX:CompressedClassSpaceSize=256M\0-XX:MaxDirectMemorySize=1g\0-XX:-TieredCompilation\0"
                              "-Xshare:off\0Main\0-Xmx1t\0";
    struct prog_facts p;
    memset(&p, 0, sizeof p);
    runtime_jvm_flags(&p, cmd, sizeof cmd - 1);
    cr_expect_eq(p.xms, 512ll << 20);
    cr_expect_eq(p.xmx, 2ll << 30, "a program argument after the main class is not a flag");
    cr_expect_eq(p.xss, 8ll << 20);
    cr_expect_eq(p.code_cache, 64ll << 20);
    cr_expect_eq(p.class_space, 256ll << 20);
    cr_expect_eq(p.max_direct, 1ll << 30);
    cr_expect(p.tiered_off && p.share_off);
    static const char jar[] = "java\0-XX:ThreadStackSize=512\0-jar\0app.jar\0-Xmx9g\0";
    memset(&p, 0, sizeof p);
    runtime_jvm_flags(&p, jar, sizeof jar - 1);
    cr_expect_eq(p.xss, 512 * 1024);
    cr_expect_eq(p.xmx, 0);
    cr_expect_eq(runtime_jvm_size("12x"), -1);
    cr_expect_eq(runtime_jvm_size("3K"), 3072);
}

Test(parsers, systemd_unit_from_the_cgroup)
{
    struct prog_facts p;
    runtime_service(&p, "0::/system.slice/nginx.service\n");
    cr_expect_str_eq(p.service, "nginx.service");
    runtime_service(&p, "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.service\n");
    cr_expect_str_eq(p.service, "app-x.service");
    runtime_service(&p, "12:pids:/\n1:name=systemd:/system.slice/cron.service\n0::/\n");
    cr_expect_str_eq(p.service, "cron.service", "cgroup v1's systemd hierarchy");
    runtime_service(&p, "0::/user.slice/user-1000.slice/session-3.scope\n");
    cr_expect_str_eq(p.service, "");
    runtime_service(&p, "0::/\n");
    cr_expect_str_eq(p.service, "");
}

Test(demangle, names_into_the_callers_buffer)
{
    char out[256];
    cr_expect_eq(osh_demangle("_ZN2v88internal21Builtin_HandleApiCallEiPmPNS0_7IsolateE", out, sizeof out), 1);
    cr_expect_str_eq(out, "v8::internal::Builtin_HandleApiCall(int, unsigned long*, v8::internal::Isolate*)");
    cr_expect_eq(osh_demangle("_ZN2os13commit_memoryEPcmb", out, sizeof out), 1);
    cr_expect_str_eq(out, "os::commit_memory(char*, unsigned long, bool)");
    cr_expect_eq(osh_demangle("JNI_CreateJavaVM", out, sizeof out), 0, "a C name stays as it is");
    cr_expect_str_eq(out, "");
    cr_expect_eq(osh_demangle("_Znot a name", out, sizeof out), 0);
    char small[24];
    cr_expect_eq(osh_demangle("_ZN2v88internal21Builtin_HandleApiCallEiPmPNS0_7IsolateE", small, sizeof small), 1);
    cr_expect_eq(strlen(small), sizeof small - 1);
    cr_expect(!strcmp(small + strlen(small) - 3, "..."), "cut to fit: %s", small);
    char longname[DEMANGLE_MAX_IN + 8];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "_ZN", 3);
    longname[sizeof longname - 1] = 0;
    cr_expect_eq(osh_demangle(longname, out, sizeof out), 0, "too long for the report stack");
}

Test(options, journal_socket_is_an_absolute_path)
{
    struct osh_options o;
    char err[256];
    options_defaults(&o);
    cr_expect_str_eq(o.journal, "/run/systemd/journal/socket");
    cr_expect_eq(options_parse(&o, "syslog=1:journal=/tmp/j.sock", err, sizeof err), 0);
    cr_expect_str_eq(o.journal, "/tmp/j.sock");
    options_defaults(&o);
    cr_expect_eq(options_parse(&o, "journal=j.sock", err, sizeof err), -1);
    cr_expect(strstr(err, "journal"), "%s", err);
}
