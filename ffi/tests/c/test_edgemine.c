/*
 * The C ABI as a C program uses it: statuses, messages, spans, options,
 * JSON, threads. Built and run under AddressSanitizer, LeakSanitizer and
 * UBSan by ffi/tests/c/run.sh (./test.sh runs it): any leak or memory error
 * fails the run.
 */
#include <edgemine.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

#define CHECK_STATUS(call, expected)                                                                   \
    do {                                                                                               \
        edgemine_status got_ = (call);                                                                 \
        CHECK(got_ == (expected), "%s returned %s (%s)", #call, edgemine_status_name(got_), edgemine_last_error()); \
    } while (0)

static const char *SAMPLE =
    "Dr. Anna Keller from Siemens Energy inspected the turbine hall in Hamburg on Monday. "
    "She met two engineers from the University of Stuttgart.";

/* Code points, UTF-8 bytes and UTF-16 units all differ in this text. */
static const char *NON_ASCII =
    "Dr. Zo\xc3\xab M\xc3\xbcller \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x94\xac met Siemens engineers in "
    "Z\xc3\xbcrich. \xe5\x8c\x97\xe4\xba\xac Huawei sent \xf0\x9f\x9a\x80 rockets to S\xc3\xa3o Paulo.";

static int str_eq(edgemine_str s, const char *c) { return s.len == strlen(c) && memcmp(s.data, c, s.len) == 0; }

/* Code points before byte offset `bytes` of UTF-8 `text`. */
static size_t chars_before(const char *text, size_t bytes) {
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++) n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

/* UTF-16 units before byte offset `bytes` of UTF-8 `text`. */
static size_t utf16_before(const char *text, size_t bytes) {
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

static edgemine_result *extract(const edgemine_engine *engine, const char *text, uint32_t tasks, uint32_t offsets) {
    edgemine_options *options = edgemine_options_new();
    CHECK_STATUS(edgemine_options_set_tasks(options, tasks), EDGEMINE_STATUS_OK);
    CHECK_STATUS(edgemine_options_set_offsets(options, offsets), EDGEMINE_STATUS_OK);
    edgemine_result *result = NULL;
    CHECK_STATUS(edgemine_extract(engine, text, strlen(text), options, &result), EDGEMINE_STATUS_OK);
    edgemine_options_free(options);
    return result;
}

static void test_version_and_names(void) {
    CHECK(strcmp(edgemine_version(), EXPECTED_VERSION) == 0, "version %s", edgemine_version());
    CHECK(strcmp(edgemine_status_name(EDGEMINE_STATUS_MODEL_NOT_FOUND), "EDGEMINE_STATUS_MODEL_NOT_FOUND") == 0, "name");
    CHECK(strcmp(edgemine_status_name(999), "unknown status") == 0, "unknown name");
}

static void test_engine_errors(void) {
    edgemine_engine *engine = (edgemine_engine *)0x1;
    CHECK_STATUS(edgemine_engine_new("/nonexistent/models", 1, &engine), EDGEMINE_STATUS_MODEL_NOT_FOUND);
    CHECK(engine == (edgemine_engine *)0x1, "out changed on failure");
    CHECK(strstr(edgemine_last_error(), "/nonexistent/models") != NULL, "message: %s", edgemine_last_error());
    CHECK_STATUS(edgemine_engine_new(NULL, 1, NULL), EDGEMINE_STATUS_NULL_ARGUMENT);
    CHECK(strstr(edgemine_last_error(), "`out`") != NULL, "message: %s", edgemine_last_error());
    edgemine_engine_free(NULL);
    edgemine_options_free(NULL);
    edgemine_result_free(NULL);
}

static void test_entities_and_spans(const edgemine_engine *engine) {
    edgemine_result *result = extract(engine, SAMPLE, 0, EDGEMINE_OFFSETS_UTF8);
    size_t n = edgemine_result_entity_count(result);
    int keller = 0;
    CHECK(n >= 3, "%zu entities", n);
    for (size_t i = 0; i < n; i++) {
        edgemine_entity e;
        CHECK_STATUS(edgemine_result_entity(result, i, &e), EDGEMINE_STATUS_OK);
        CHECK(e.end - e.start == e.text.len && memcmp(SAMPLE + e.start, e.text.data, e.text.len) == 0,
              "entity %zu span", i);
        CHECK(str_eq(e.label, "PER") || str_eq(e.label, "ORG") || str_eq(e.label, "LOC"), "label");
        CHECK(e.score >= 0.0f && e.score <= 1.0f, "score %f", e.score);
        keller |= str_eq(e.text, "Anna Keller") && str_eq(e.label, "PER");
    }
    CHECK(keller, "Anna Keller is a PER");
    edgemine_entity e;
    CHECK_STATUS(edgemine_result_entity(result, n, &e), EDGEMINE_STATUS_OUT_OF_RANGE);
    CHECK_STATUS(edgemine_result_entity(result, 0, NULL), EDGEMINE_STATUS_NULL_ARGUMENT);

    size_t words = edgemine_result_word_count(result);
    CHECK(words > 20, "%zu words", words);
    for (size_t i = 0; i < words; i++) {
        edgemine_word w;
        edgemine_result_word(result, i, &w);
        CHECK(memcmp(SAMPLE + w.start, w.text.data, w.text.len) == 0 && w.end - w.start == w.text.len, "word span");
        CHECK(w.upos.len > 0 && w.deprel.len > 0, "word %zu tags", i);
    }
    for (size_t i = 0; i < edgemine_result_keyphrase_count(result); i++) {
        edgemine_keyphrase k;
        edgemine_result_keyphrase(result, i, &k);
        CHECK(k.occurrence_count >= 1, "occurrences");
        for (size_t j = 0; j < k.occurrence_count; j++) {
            edgemine_span s;
            CHECK_STATUS(edgemine_result_keyphrase_occurrence(result, i, j, &s), EDGEMINE_STATUS_OK);
            CHECK(s.end > s.start && s.end <= strlen(SAMPLE), "occurrence span");
        }
        edgemine_span s;
        CHECK_STATUS(edgemine_result_keyphrase_occurrence(result, i, k.occurrence_count, &s), EDGEMINE_STATUS_OUT_OF_RANGE);
    }
    size_t triples = edgemine_result_triple_count(result);
    CHECK(triples >= 1, "%zu triples", triples);
    for (size_t i = 0; i < triples; i++) {
        edgemine_triple t;
        edgemine_result_triple(result, i, &t);
        CHECK(memcmp(SAMPLE + t.subject.start, t.subject.text.data, t.subject.text.len) == 0, "subject span");
        CHECK(!t.has_object || memcmp(SAMPLE + t.object.start, t.object.text.data, t.object.text.len) == 0, "object");
        CHECK(t.label.len > 0, "label");
        for (size_t j = 0; j < t.argument_count; j++) {
            edgemine_argument a;
            CHECK_STATUS(edgemine_result_triple_argument(result, i, j, &a), EDGEMINE_STATUS_OK);
            CHECK(memcmp(SAMPLE + a.start, a.text.data, a.text.len) == 0, "argument span");
        }
    }
    edgemine_argument a;
    CHECK_STATUS(edgemine_result_triple_argument(result, triples, 0, &a), EDGEMINE_STATUS_OUT_OF_RANGE);
    CHECK(strstr(edgemine_last_error(), "triple") != NULL, "message: %s", edgemine_last_error());
    CHECK(edgemine_result_sentence_count(result) == 2, "sentences");

    edgemine_str json;
    CHECK_STATUS(edgemine_result_json(result, &json), EDGEMINE_STATUS_OK);
    CHECK(json.len > 100 && json.data[0] == '{' && json.data[json.len] == '\0', "json");
    CHECK(strstr(json.data, "\"entities\"") && strstr(json.data, "\"offsets\":\"utf8\""), "json keys");
    edgemine_str again;
    edgemine_result_json(result, &again);
    CHECK(again.data == json.data, "json is built once");
    edgemine_result_free(result);
}

static void test_tasks_and_offsets(const edgemine_engine *engine) {
    edgemine_result *only = extract(engine, SAMPLE, EDGEMINE_TASK_ENTITIES, EDGEMINE_OFFSETS_UTF8);
    CHECK(edgemine_result_has(only, EDGEMINE_TASK_ENTITIES) && !edgemine_result_has(only, EDGEMINE_TASK_PARSE), "has");
    CHECK(edgemine_result_word_count(only) == 0 && edgemine_result_triple_count(only) == 0, "nothing else");
    edgemine_result_free(only);

    edgemine_result *bytes = extract(engine, NON_ASCII, EDGEMINE_TASK_PARSE, EDGEMINE_OFFSETS_UTF8);
    edgemine_result *chars = extract(engine, NON_ASCII, EDGEMINE_TASK_PARSE, EDGEMINE_OFFSETS_CHAR);
    edgemine_result *units = extract(engine, NON_ASCII, EDGEMINE_TASK_PARSE, EDGEMINE_OFFSETS_UTF16);
    size_t n = edgemine_result_word_count(bytes);
    CHECK(n > 10 && n == edgemine_result_word_count(chars) && n == edgemine_result_word_count(units), "%zu words", n);
    int differ = 0;
    for (size_t i = 0; i < n; i++) {
        edgemine_word b, c, u;
        edgemine_result_word(bytes, i, &b);
        edgemine_result_word(chars, i, &c);
        edgemine_result_word(units, i, &u);
        CHECK(memcmp(NON_ASCII + b.start, b.text.data, b.text.len) == 0, "utf8 word %zu", i);
        CHECK(c.start == chars_before(NON_ASCII, b.start) && c.end == chars_before(NON_ASCII, b.end), "char word %zu", i);
        CHECK(u.start == utf16_before(NON_ASCII, b.start) && u.end == utf16_before(NON_ASCII, b.end), "utf16 word %zu", i);
        differ |= c.start != u.start && u.start != b.start;
    }
    CHECK(differ, "the three units differ somewhere");
    edgemine_result_free(bytes);
    edgemine_result_free(chars);
    edgemine_result_free(units);
}

static void test_bad_input(const edgemine_engine *engine) {
    edgemine_result *result = (edgemine_result *)0x1;
    CHECK_STATUS(edgemine_extract(engine, "", 0, NULL, &result), EDGEMINE_STATUS_EMPTY_DOCUMENT);
    CHECK_STATUS(edgemine_extract(engine, " \n ", 3, NULL, &result), EDGEMINE_STATUS_EMPTY_DOCUMENT);
    CHECK_STATUS(edgemine_extract(engine, "Z\xfcrich", 6, NULL, &result), EDGEMINE_STATUS_INVALID_UTF8);
    CHECK(strstr(edgemine_last_error(), "offset 1") != NULL, "message: %s", edgemine_last_error());
    CHECK_STATUS(edgemine_extract(engine, NULL, 3, NULL, &result), EDGEMINE_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(edgemine_extract(NULL, "text", 4, NULL, &result), EDGEMINE_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(edgemine_extract(engine, "text", 4, NULL, NULL), EDGEMINE_STATUS_NULL_ARGUMENT);
    CHECK(result == (edgemine_result *)0x1, "out changed on failure");

    edgemine_options *options = edgemine_options_new();
    CHECK_STATUS(edgemine_options_set_tasks(options, 16), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK_STATUS(edgemine_options_set_offsets(options, 7), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK_STATUS(edgemine_options_set_top_k(options, 0), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK_STATUS(edgemine_options_set_max_document_bytes(options, 0), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK_STATUS(edgemine_options_set_tasks(NULL, 1), EDGEMINE_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(edgemine_options_set_max_document_bytes(options, 10), EDGEMINE_STATUS_OK);
    CHECK_STATUS(edgemine_extract(engine, SAMPLE, strlen(SAMPLE), options, &result), EDGEMINE_STATUS_DOCUMENT_TOO_LARGE);
    CHECK_STATUS(edgemine_options_set_max_document_bytes(options, 1 << 20), EDGEMINE_STATUS_OK);
    CHECK_STATUS(edgemine_options_set_top_k(options, 2), EDGEMINE_STATUS_OK);
    CHECK_STATUS(edgemine_options_set_tasks(options, EDGEMINE_TASK_KEYPHRASES), EDGEMINE_STATUS_OK);
    CHECK_STATUS(edgemine_extract(engine, SAMPLE, strlen(SAMPLE), options, &result), EDGEMINE_STATUS_OK);
    CHECK(edgemine_result_keyphrase_count(result) == 2, "top_k 2");
    edgemine_result_free(result);

    /* The other options, by name, as JSON: refused whole, or set. */
    CHECK_STATUS(edgemine_options_set_json(options, "{\"offset\": \"utf16\"}"), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK(strstr(edgemine_last_error(), "unknown field `offset`") != NULL, "message: %s", edgemine_last_error());
    CHECK_STATUS(edgemine_options_set_json(options, "{\"top_k\": 0}"), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK_STATUS(edgemine_options_set_json(options, "[1]"), EDGEMINE_STATUS_INVALID_OPTION);
    CHECK_STATUS(edgemine_options_set_json(options, "{\"top_k\": 1\xff}"), EDGEMINE_STATUS_INVALID_UTF8);
    CHECK_STATUS(edgemine_options_set_json(options, NULL), EDGEMINE_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(edgemine_options_set_json(options, "{\"top_k\": 3, \"keyphrase_max_words\": 1}"), EDGEMINE_STATUS_OK);
    CHECK_STATUS(edgemine_extract(engine, SAMPLE, strlen(SAMPLE), options, &result), EDGEMINE_STATUS_OK);
    CHECK(edgemine_result_keyphrase_count(result) == 3, "top_k 3");
    for (size_t i = 0; i < 3; i++) {
        edgemine_keyphrase k;
        CHECK_STATUS(edgemine_result_keyphrase(result, i, &k), EDGEMINE_STATUS_OK);
        CHECK(memchr(k.text.data, ' ', k.text.len) == NULL, "one word: %.*s", (int)k.text.len, k.text.data);
    }
    edgemine_result_free(result);
    edgemine_options_free(options);
}

/* Threads share one engine; each compares its results with the serial ones. */
struct job {
    const edgemine_engine *engine;
    const char *expected_json;
    int mismatches;
    char own_error[64];
};

static void *worker(void *arg) {
    struct job *job = arg;
    for (int i = 0; i < 3; i++) {
        edgemine_result *result = NULL;
        if (edgemine_extract(job->engine, SAMPLE, strlen(SAMPLE), NULL, &result) != EDGEMINE_STATUS_OK) {
            job->mismatches++;
            continue;
        }
        edgemine_str json;
        edgemine_result_json(result, &json);
        job->mismatches += strcmp(json.data, job->expected_json) != 0;
        edgemine_result_free(result);
    }
    /* This thread's last error is its own. */
    edgemine_result *none = NULL;
    edgemine_extract(job->engine, "", 0, NULL, &none);
    snprintf(job->own_error, sizeof job->own_error, "%s", edgemine_last_error());
    return NULL;
}

static void test_threads(const edgemine_engine *engine) {
    edgemine_result *serial = NULL;
    CHECK_STATUS(edgemine_extract(engine, SAMPLE, strlen(SAMPLE), NULL, &serial), EDGEMINE_STATUS_OK);
    edgemine_str expected;
    edgemine_result_json(serial, &expected);
    /* Set a different message on this thread first. */
    edgemine_result *none = NULL;
    edgemine_extract(engine, "Z\xfcrich", 6, NULL, &none);
    struct job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){engine, expected.data, 0, {0}};
        pthread_create(&threads[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].mismatches == 0, "thread %d: %d mismatches", i, jobs[i].mismatches);
        CHECK(strncmp(jobs[i].own_error, "the document is empty", 21) == 0, "thread %d: %s", i, jobs[i].own_error);
    }
    CHECK(strstr(edgemine_last_error(), "not valid UTF-8") != NULL, "main thread: %s", edgemine_last_error());
    edgemine_result_free(serial);
}

int main(void) {
    test_version_and_names();
    test_engine_errors();
    edgemine_engine *engine = NULL;
    CHECK_STATUS(edgemine_engine_new(NULL, 2, &engine), EDGEMINE_STATUS_OK);
    if (!engine) return 1;
    CHECK(edgemine_engine_threads(engine) == 2, "threads");
    test_entities_and_spans(engine);
    test_tasks_and_offsets(engine);
    test_bad_input(engine);
    test_threads(engine);
    edgemine_engine_free(engine);
    printf("%d checks, %d failed\n", checks, failures);
    return failures != 0;
}
