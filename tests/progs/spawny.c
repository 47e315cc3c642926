/* Every way a process starts another: fork+exec, posix_spawn, system(), popen(),
 * daemon() (in a child), vfork+exec, and an exec of a statically linked program.
 * Prints one line per way; the test compares with the run without the shim. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* vfork returns twice: in a function of its own no local variable of main's lives across
 * it (gcc 16: -Werror=clobbered in main). */
static __attribute__((noinline)) void vfork_exec(void)
{
    pid_t p = vfork();
    if (p == 0) {
        execlp("sh", "sh", "-c", "echo vfork+exec", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
}

int main(int argc, char **argv)
{
    const char *static_prog = argc > 1 ? argv[1] : "/bin/true";
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t p = fork();
    if (p == 0) {
        execlp("sh", "sh", "-c", "echo fork+exec", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    char *a[] = {"sh", "-c", "echo posix_spawn", NULL};
    if (posix_spawnp(&p, "sh", NULL, NULL, a, environ) == 0) waitpid(p, &st, 0);
    if (system("echo system") != 0) printf("system failed\n");
    FILE *f = popen("echo popen", "r");
    char line[64];
    if (f && fgets(line, sizeof line, f)) printf("%s", line);
    if (f) pclose(f);
    vfork_exec();
    int pfd[2];
    if (pipe(pfd) != 0) return 1;
    p = fork();
    if (p == 0) { /* daemon() forks again and detaches; the grandchild reports back through the pipe */
        close(pfd[0]);
        if (daemon(1, 1) != 0) _exit(1);
        if (write(pfd[1], "daemon\n", 7) != 7) _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    waitpid(p, &st, 0);
    ssize_t n = read(pfd[0], line, sizeof line - 1);
    if (n > 0) line[n] = 0, printf("%s", line);
    p = fork();
    if (p == 0) {
        execl(static_prog, static_prog, (char *)NULL);
        _exit(127);
    }
    waitpid(p, &st, 0);
    printf("static program exit %d\n", WEXITSTATUS(st));
    return 0;
}
