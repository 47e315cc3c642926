/* Advice.writeSummary(): the shim's public overshim_write_summary() from Java (a JNI
 * library the "hold" case loads), so a test can have a summary of a running JVM at the
 * moment it also asks jcmd for NMT's. -2 when the shim is not loaded. */
#include <dlfcn.h>
#include <jni.h>

JNIEXPORT jint JNICALL Java_Advice_writeSummary(JNIEnv *env, jclass cls)
{
    (void)env, (void)cls;
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "overshim_write_summary");
    return f ? f() : -2;
}
