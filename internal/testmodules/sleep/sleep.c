// sleep: a WASI command that sleeps for the number of milliseconds given on
// stdin, then prints "slept N". For tests of concurrency caps and drain.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    char buf[32];
    size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
    buf[n] = 0;
    int ms = atoi(buf);
    usleep((useconds_t)ms * 1000);
    printf("slept %d\n", ms);
    return 0;
}
