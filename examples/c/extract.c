/*
 * Prints the entities of a text file, or of the sample document, with their
 * byte offsets, using the installed library:
 *
 *     make -C ffi install PREFIX=$HOME/.local
 *     export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig LD_LIBRARY_PATH=$HOME/.local/lib
 *     cc examples/c/extract.c $(pkg-config --cflags --libs edgemine) -o extract
 *     ./extract samples/sample.txt
 */
#include <edgemine.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads a whole file; returns NULL (and says why) if it cannot. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    char *text = NULL;
    size_t size = 0, cap = 0, n;
    do {
        if (size == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = grown;
        }
        n = fread(text + size, 1, cap - size, f);
        size += n;
    } while (n > 0);
    fclose(f);
    *len = size;
    return text;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "samples/sample.txt";
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) return 4;

    edgemine_engine *engine = NULL;
    edgemine_status status = edgemine_engine_new(NULL, 0, &engine); /* default models, all CPUs */
    if (status != EDGEMINE_STATUS_OK) {
        fprintf(stderr, "edgemine %s: %s\n", edgemine_status_name(status), edgemine_last_error());
        free(text);
        return 3;
    }

    edgemine_options *options = edgemine_options_new(); /* UTF-8 byte offsets */
    edgemine_options_set_tasks(options, EDGEMINE_TASK_ENTITIES);
    edgemine_result *result = NULL;
    status = edgemine_extract(engine, text, len, options, &result);
    if (status != EDGEMINE_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", path, edgemine_last_error());
    } else {
        size_t count = edgemine_result_entity_count(result);
        for (size_t i = 0; i < count; i++) {
            edgemine_entity e;
            edgemine_result_entity(result, i, &e);
            printf("%.*s\t%.*s\t%zu\t%zu\t%.2f\n", (int)e.label.len, e.label.data, (int)e.text.len, e.text.data,
                   e.start, e.end, e.score);
        }
    }

    edgemine_result_free(result);
    edgemine_options_free(options);
    edgemine_engine_free(engine);
    free(text);
    return status == EDGEMINE_STATUS_OK ? 0 : 1;
}
