// hello is Hearth's C example: a WASI command that greets its input.
// stdin "Hearth" → stdout "Hello, Hearth!\n"; empty stdin → "Hello, world!\n".
// Build: clang --target=wasm32-wasi -O2 -Wl,-z,stack-size=65536 -Wl,--strip-all -o hello.wasm hello.c
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char input[4096];

int main(void) {
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(input) && (r = read(0, input + n, sizeof(input) - n)) > 0) {
        n += (size_t)r;
    }
    size_t total = n;
    while (n > 0 && (input[n - 1] == '\n' || input[n - 1] == '\r')) {
        n--;
    }
    if (n == 0) {
        fputs("Hello, world!\n", stdout);
    } else {
        fputs("Hello, ", stdout);
        fwrite(input, 1, n, stdout);
        fputs("!\n", stdout);
    }
    fprintf(stderr, "hello: greeted %zu bytes\n", total);
    return 0;
}
