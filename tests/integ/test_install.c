/* Issue 7: make install into a DESTDIR, the installed command finds the installed
 * library, the man pages render, pkg-config knows the package; dir=, syslog= and
 * follow_exec= for services. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

Test(install, destdir_layout_command_man_pkgconfig, .timeout = 120)
{
    char *dir = test_dir("install");
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "make -s install DESTDIR=%s PREFIX=/usr BUILD=%s > %s/make.log 2>&1", dir, build_dir(), dir);
    cr_assert_eq(system(cmd), 0, "make install failed");
    const char *files[] = {"/usr/lib/libovershim.so", "/usr/bin/overshim", "/usr/include/overshim.h", "/usr/include/overshim_flight.h",
                           "/usr/lib/pkgconfig/overshim.pc", "/usr/share/man/man1/overshim.1",
                           "/usr/share/man/man7/overshim.7", "/usr/share/overshim/valgrind.supp"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s%s", dir, files[i]);
        cr_expect_eq(access(p, R_OK), 0, "%s missing", files[i]);
    }
    char bin[4400];
    snprintf(bin, sizeof bin, "%s/usr/bin/overshim", dir);
    char *v[] = {bin, "--version", NULL};
    struct run r;
    run_cmd(&r, v, NULL, dir, 0, 30);
    cr_expect_str_eq(r.out, "overshim 0.1.0\n");
    run_free(&r);
    char *rr[] = {bin, "run", "--", (char *)prog("refuse"), "mmap-pages", "1000000000000", NULL};
    run_cmd(&r, rr, NULL, dir, 0, 30);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.err, "SUMMARY: overshim: address_space") != NULL, "the installed library: %s", r.err);
    run_free(&r);
    for (int sec = 1; sec <= 7; sec += 6) {
        char m[4400];
        snprintf(m, sizeof m, "%s/usr/share/man/man%d/overshim.%d", dir, sec, sec);
        char *man[] = {"man", "-l", m, NULL};
        char e[] = "MANPAGER=cat", w[] = "MANWIDTH=100";
        char *env[] = {e, w, NULL};
        run_cmd(&r, man, env, dir, 0, 30);
        cr_expect_eq(r.status, 0, "man -l %s: %s", m, r.err);
        cr_expect(strstr(r.out, "NAME") && strstr(r.out, "overshim"), "%s", r.out);
        cr_expect(strstr(r.err, "warning") == NULL, "groff warnings: %s", r.err);
        run_free(&r);
    }
    char pc[4400];
    snprintf(pc, sizeof pc, "PKG_CONFIG_PATH=%s/usr/lib/pkgconfig", dir);
    char *pk[] = {"pkg-config", "--modversion", "overshim", NULL};
    char *env[] = {pc, NULL};
    run_cmd(&r, pk, env, dir, 0, 30);
    cr_expect_str_eq(r.out, "0.1.0\n");
    run_free(&r);
    snprintf(cmd, sizeof cmd, "make -s uninstall DESTDIR=%s PREFIX=/usr BUILD=%s > /dev/null 2>&1", dir, build_dir());
    cr_expect_eq(system(cmd), 0);
    snprintf(bin, sizeof bin, "%s/usr/lib/libovershim.so", dir);
    cr_expect_neq(access(bin, F_OK), 0, "uninstall left the library");
    free(dir);
}

Test(service, dir_syslog_and_follow_exec)
{
    char *dir = test_dir("service");
    char reports[4300], sock[4300];
    snprintf(reports, sizeof reports, "%s/reports", dir);
    mkdir(reports, 0755);
    snprintf(sock, sizeof sock, "%s/log.sock", dir);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(sock), sizeof a.sun_path, "socket path too long: %s", sock);
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    char opt[9000];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=dir=%s:syslog=%s", reports, sock);
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", "1000000000000", NULL};
    struct run r;
    run_cmd(&r, argv, env, "/", 1, 30); /* a service whose cwd is / */
    cr_expect_eq(r.status, 0);
    cr_expect(find_file(reports, "overshim_pid", ".jsonl") != NULL, "dir= was not used");
    char msg[2048] = "";
    ssize_t n = recv(s, msg, sizeof msg - 1, MSG_DONTWAIT);
    cr_assert_gt(n, 0, "nothing reached the syslog socket");
    msg[n] = 0;
    cr_expect(!strncmp(msg, "<12>overshim[", 13) && strstr(msg, "SUMMARY: overshim: address_space mmap") &&
                  strstr(msg, "parent"),
              "%s", msg);
    close(s);
    run_free(&r);
    /* follow_exec=0: the program itself is watched, what it execs is not */
    char opt2[9000];
    snprintf(opt2, sizeof opt2, "OVERSHIM_OPTIONS=dir=%s:follow_exec=0", dir);
    char *env2[] = {opt2, NULL};
    char c[8400];
    snprintf(c, sizeof c, "%s mmap-pages 1000000000000", prog("refuse"));
    char *sh[] = {"sh", "-c", c, NULL};
    run_cmd(&r, sh, env2, dir, 1, 30);
    cr_expect_eq(r.status, 0);
    cr_expect(find_file(dir, "overshim_pid", ".jsonl") == NULL, "the exec'd program was followed");
    run_free(&r);
    free(dir);
}
