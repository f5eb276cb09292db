// reverse-c is Hearth's C reactor example: it answers with its input
// reversed, like the Go reverse example, through the reactor ABI
// (docs/abi.md) without a language runtime, so a warm call costs about a
// microsecond of guest time.
// Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wl,-z,stack-size=65536 -Wl,--strip-all -o reverse.wasm reverse.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char header[] = "Status: 200\nContent-Type: application/octet-stream\n\n";

static char *input;   // the input buffer handed out by hearth_alloc
static size_t input_cap;
static char *output;  // the response, valid until the next call
static size_t output_cap;

// hearth_alloc returns size writable bytes: the instance's input buffer.
__attribute__((export_name("hearth_alloc")))
char *hearth_alloc(int32_t size) {
    if (size < 0) {
        return NULL;
    }
    if ((size_t)size > input_cap) {
        free(input);
        input = malloc((size_t)size);
        input_cap = input == NULL ? 0 : (size_t)size;
    }
    return input;
}

// hearth_handle answers with the body reversed; meta is not needed.
__attribute__((export_name("hearth_handle")))
int64_t hearth_handle(char *meta, int32_t meta_len, char *body, int32_t body_len) {
    (void)meta;
    (void)meta_len;
    size_t n = body_len < 0 ? 0 : (size_t)body_len;
    size_t need = sizeof header - 1 + n;
    if (need > output_cap) {
        char *grown = realloc(output, need);
        if (grown == NULL) {
            static const char oom[] = "Status: 500\nHearth-Error: reverse-c: out of memory\n\n";
            return ((int64_t)(uintptr_t)oom << 32) | (int64_t)(sizeof oom - 1);
        }
        output = grown;
        output_cap = need;
    }
    memcpy(output, header, sizeof header - 1);
    char *out = output + sizeof header - 1;
    for (size_t i = 0; i < n; i++) {
        out[n - 1 - i] = body[i];
    }
    return ((int64_t)(uintptr_t)output << 32) | (int64_t)need;
}
