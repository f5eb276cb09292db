// hello is Hearth's C example: a WASI command that greets its input.
// stdin "Hearth" → stdout "Hello, Hearth!\n"; empty stdin → "Hello, world!\n".
// Trailing newlines of the input are trimmed. It logs one line to stderr.
// Build: clang --target=wasm32-wasi -O2 -Wl,-z,stack-size=65536 -Wl,--strip-all -o hello.wasm hello.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    // Read all of stdin into a heap buffer that doubles as it fills; the
    // platform's input and memory limits bound how large it can get.
    size_t cap = 4096, n = 0;
    char *input = malloc(cap);
    if (input == NULL) {
        fputs("hello: out of memory\n", stderr);
        return 1;
    }
    for (;;) {
        if (n == cap) {
            char *grown = cap <= SIZE_MAX / 2 ? realloc(input, cap * 2) : NULL;
            if (grown == NULL) {
                fputs("hello: out of memory\n", stderr);
                return 1;
            }
            input = grown;
            cap *= 2;
        }
        ssize_t r = read(0, input + n, cap - n);
        if (r == 0) {
            break;
        }
        if (r < 0) {
            fputs("hello: cannot read stdin\n", stderr);
            return 1;
        }
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
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("hello: cannot write stdout\n", stderr);
        return 1;
    }
    fprintf(stderr, "hello: greeted %zu bytes\n", total);
    free(input);
    return 0;
}
