/* A library with 512 bytes of initial-exec TLS, glibc's default reserve for libraries
 * like it that a program dlopens (glibc.rtld.optional_static_tls). */
__thread __attribute__((tls_model("initial-exec"))) char ie_tls512[512];

int ie_tls512_first(void) { return ie_tls512[0]; }
