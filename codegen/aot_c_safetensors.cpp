#include "codegen/aot_c_safetensors.h"

namespace strata::codegen {

const char *const c_safetensors_reader = R"C(
static inline int @_fail(char *message, size_t size, int code, const char *format, ...) {
    va_list args;
    if (message && size > 0) {
        va_start(args, format);
        vsnprintf(message, size, format, args);
        va_end(args);
    }
    return code;
}

static inline void @_shape_text(char *text, size_t size, const int64_t *shape, int rank) {
    size_t used = 0;
    int i;
    used += (size_t)snprintf(text, size, "[");
    for (i = 0; i < rank && used < size; ++i)
        used += (size_t)snprintf(text + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < size) snprintf(text + used, size - used, "]");
}

/* A minimal JSON reader, enough for a safetensors header. */
typedef struct @_json { const char *p, *end; } @_json;

static inline void @_json_space(@_json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) ++j->p;
}

static inline int @_json_char(@_json *j, char c) {
    @_json_space(j);
    if (j->p < j->end && *j->p == c) {
        ++j->p;
        return 1;
    }
    return 0;
}

/* A string's raw bytes (escapes left as they are). */
static inline int @_json_string(@_json *j, const char **text, size_t *length) {
    const char *start;
    if (!@_json_char(j, '"')) return 0;
    start = j->p;
    while (j->p < j->end && *j->p != '"') {
        if (*j->p == '\\') ++j->p;
        ++j->p;
    }
    if (j->p >= j->end) return 0;
    *text = start;
    *length = (size_t)(j->p - start);
    ++j->p;
    return 1;
}

static inline int @_json_count(@_json *j, int64_t *value) {
    int64_t v = 0;
    int digits = 0;
    @_json_space(j);
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return 0;
        v = v * 10 + (*j->p++ - '0');
        ++digits;
    }
    *value = v;
    return digits > 0;
}

/* Skips any JSON value. */
static inline int @_json_skip(@_json *j, int depth) {
    const char *text;
    size_t length;
    if (depth > 32) return 0;
    @_json_space(j);
    if (j->p >= j->end) return 0;
    if (*j->p == '"') return @_json_string(j, &text, &length);
    if (@_json_char(j, '{')) {
        if (@_json_char(j, '}')) return 1;
        do {
            if (!@_json_string(j, &text, &length) || !@_json_char(j, ':') || !@_json_skip(j, depth + 1)) return 0;
        } while (@_json_char(j, ','));
        return @_json_char(j, '}');
    }
    if (@_json_char(j, '[')) {
        if (@_json_char(j, ']')) return 1;
        do {
            if (!@_json_skip(j, depth + 1)) return 0;
        } while (@_json_char(j, ','));
        return @_json_char(j, ']');
    }
    text = j->p;
    while (j->p < j->end && strchr("+-.0123456789eEtruefalsn", *j->p)) ++j->p;
    return j->p > text;
}

/* A list of counts: [a, b, ...]. */
static inline int @_json_counts(@_json *j, int64_t *values, int capacity, int *count) {
    *count = 0;
    if (!@_json_char(j, '[')) return 0;
    if (@_json_char(j, ']')) return 1;
    do {
        if (*count >= capacity || !@_json_count(j, &values[*count])) return 0;
        ++*count;
    } while (@_json_char(j, ','));
    return @_json_char(j, ']');
}

/* One tensor's entry: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}. */
typedef struct @_entry {
    char dtype[8];
    int64_t shape[16], offsets[2];
    int rank, offset_count, has_dtype;
} @_entry;

static inline int @_json_entry(@_json *j, @_entry *e) {
    const char *key, *text;
    size_t key_length, length;
    memset(e, 0, sizeof *e);
    e->rank = -1;
    if (!@_json_char(j, '{')) return 0;
    if (@_json_char(j, '}')) return 1;
    do {
        if (!@_json_string(j, &key, &key_length) || !@_json_char(j, ':')) return 0;
        if (key_length == 5 && memcmp(key, "dtype", 5) == 0) {
            if (!@_json_string(j, &text, &length)) return 0;
            if (length >= sizeof e->dtype) length = sizeof e->dtype - 1;
            memcpy(e->dtype, text, length);
            e->has_dtype = 1;
        } else if (key_length == 5 && memcmp(key, "shape", 5) == 0) {
            if (!@_json_counts(j, e->shape, 16, &e->rank)) return 0;
        } else if (key_length == 12 && memcmp(key, "data_offsets", 12) == 0) {
            if (!@_json_counts(j, e->offsets, 2, &e->offset_count)) return 0;
        } else if (!@_json_skip(j, 1)) {
            return 0;
        }
    } while (@_json_char(j, ','));
    return @_json_char(j, '}');
}

/* Reads tensors 0 .. count-1 of @_tensor_names from the safetensors file at
 * `path` into dest[i]. Tensors from `optional_from` on may all be absent
 * (found[i] = 0); any other problem is an error code with a message saying
 * what was wrong. Extra tensors in the file are ignored. */
static inline int @_read_tensors(const char *path, int count, int optional_from, float *const *dest, int *found,
                                 char *message, size_t message_size) {
    FILE *f;
    unsigned char size_bytes[8];
    uint64_t header_size = 0, data_size;
    long file_size;
    char *header;
    @_json j;
    @_entry e;
    int64_t begin[@_TENSOR_COUNT];
    int i, index, optional_found = 0;
    char expected[256], got[256];
    if (!path) return @_fail(message, message_size, @_ERROR_ARGUMENT, "no file name given");
    if (!dest || !found) return @_fail(message, message_size, @_ERROR_ARGUMENT, "no place for the tensors given");
#ifndef _WIN32
    {
        /* Only a regular file: opening a FIFO would wait for a writer forever, a device never ends. */
        struct stat st;
        int fd = open(path, O_RDONLY | O_NONBLOCK);
        if (fd < 0) return @_fail(message, message_size, @_ERROR_OPEN, "%s: cannot open the file", path);
        i = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        close(fd);
        if (!i) return @_fail(message, message_size, @_ERROR_OPEN, "%s: not a regular file", path);
    }
#endif
    f = fopen(path, "rb");
    if (!f) return @_fail(message, message_size, @_ERROR_OPEN, "%s: cannot open the file", path);
    if (fseek(f, 0, SEEK_END) != 0 || (file_size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return @_fail(message, message_size, @_ERROR_OPEN, "%s: cannot read the file", path);
    }
    if (file_size < 8 || fread(size_bytes, 1, 8, f) != 8) {
        fclose(f);
        return @_fail(message, message_size, @_ERROR_FORMAT,
                      "%s: %ld bytes, too short for a safetensors file (8-byte header size, header, data)", path,
                      file_size);
    }
    for (i = 0; i < 8; ++i) header_size |= (uint64_t)size_bytes[i] << (8 * i);
    if (header_size < 2 || header_size > (uint64_t)file_size - 8) {
        fclose(f);
        return @_fail(message, message_size, @_ERROR_FORMAT,
                      "%s: the header size %llu does not fit in the %ld-byte file", path,
                      (unsigned long long)header_size, file_size);
    }
    data_size = (uint64_t)file_size - 8 - header_size;
    header = (char *)malloc((size_t)header_size);
    if (!header) {
        fclose(f);
        return @_fail(message, message_size, @_ERROR_MEMORY, "%s: no memory for a %llu-byte header", path,
                      (unsigned long long)header_size);
    }
    if (fread(header, 1, (size_t)header_size, f) != (size_t)header_size) {
        free(header);
        fclose(f);
        return @_fail(message, message_size, @_ERROR_OPEN, "%s: cannot read the header", path);
    }
    for (i = 0; i < count; ++i) found[i] = 0;
    j.p = header;
    j.end = header + header_size;
    if (!@_json_char(&j, '{')) goto bad_json;
    if (!@_json_char(&j, '}')) {
        do {
            const char *key;
            size_t key_length;
            if (!@_json_string(&j, &key, &key_length) || !@_json_char(&j, ':')) goto bad_json;
            index = -1;
            for (i = 0; i < count; ++i)
                if (strlen(@_tensor_names[i]) == key_length && memcmp(@_tensor_names[i], key, key_length) == 0) index = i;
            if (index < 0) {
                if (!@_json_skip(&j, 0)) goto bad_json;
                continue;
            }
            if (!@_json_entry(&j, &e)) goto bad_json;
            @_shape_text(expected, sizeof expected, @_tensor_shapes[index], @_tensor_ranks[index]);
            @_shape_text(got, sizeof got, e.shape, e.rank < 0 ? 0 : e.rank);
            if (found[index]) {
                free(header);
                fclose(f);
                return @_fail(message, message_size, @_ERROR_FORMAT, "%s: tensor '%s' appears twice", path,
                              @_tensor_names[index]);
            }
            if (!e.has_dtype || e.rank < 0 || e.offset_count != 2) {
                free(header);
                fclose(f);
                return @_fail(message, message_size, @_ERROR_FORMAT,
                              "%s: tensor '%s' lacks its dtype, shape or data_offsets [begin, end]", path,
                              @_tensor_names[index]);
            }
            if (strcmp(e.dtype, "F32") != 0 || e.rank != @_tensor_ranks[index] ||
                memcmp(e.shape, @_tensor_shapes[index], sizeof(int64_t) * (size_t)e.rank) != 0) {
                free(header);
                fclose(f);
                return @_fail(message, message_size, @_ERROR_MISMATCH,
                              "%s: tensor '%s' is %s%s in the file, the model expects F32%s", path,
                              @_tensor_names[index], e.dtype, got, expected);
            }
            if (e.offsets[0] > e.offsets[1] || (uint64_t)e.offsets[1] > data_size ||
                e.offsets[1] - e.offsets[0] != 4 * @_tensor_numel[index]) {
                free(header);
                fclose(f);
                return @_fail(message, message_size, @_ERROR_FORMAT,
                              "%s: tensor '%s' F32%s has data_offsets [%lld, %lld]: expected %lld bytes within the "
                              "%llu-byte data section",
                              path, @_tensor_names[index], expected, (long long)e.offsets[0], (long long)e.offsets[1],
                              (long long)(4 * @_tensor_numel[index]), (unsigned long long)data_size);
            }
            found[index] = 1;
            begin[index] = e.offsets[0];
        } while (@_json_char(&j, ','));
        if (!@_json_char(&j, '}')) goto bad_json;
    }
    free(header);
    for (i = 0; i < count; ++i) {
        if (i >= optional_from) optional_found += found[i];
        if (!found[i] && i < optional_from) {
            fclose(f);
            @_shape_text(expected, sizeof expected, @_tensor_shapes[i], @_tensor_ranks[i]);
            return @_fail(message, message_size, @_ERROR_MISMATCH, "%s: no tensor '%s' (the model needs F32%s)",
                          path, @_tensor_names[i], expected);
        }
    }
    if (optional_found != 0 && optional_found != count - optional_from) {
        fclose(f);
        return @_fail(message, message_size, @_ERROR_MISMATCH,
                      "%s: holds %d of the %d optimizer state tensors; expected all or none", path, optional_found,
                      count - optional_from);
    }
    for (i = 0; i < count; ++i) {
        if (!found[i]) continue;
        if (fseek(f, (long)(8 + header_size + (uint64_t)begin[i]), SEEK_SET) != 0 ||
            fread(dest[i], 4, (size_t)@_tensor_numel[i], f) != (size_t)@_tensor_numel[i]) {
            fclose(f);
            return @_fail(message, message_size, @_ERROR_OPEN, "%s: cannot read the data of '%s'", path,
                          @_tensor_names[i]);
        }
    }
    fclose(f);
    return 0;
bad_json:
    free(header);
    fclose(f);
    return @_fail(message, message_size, @_ERROR_FORMAT, "%s: the header is not the JSON object safetensors expects",
                  path);
}

/* A zeroed array of `count` floats aligned to 128 bytes, as compiled code
 * may assume of the buffers it writes and reads back; free with @_free. */
static inline float *@_alloc_floats(int64_t count) {
    unsigned char *raw = (unsigned char *)calloc((size_t)count * sizeof(float) + 128 + sizeof(void *), 1), *aligned;
    if (!raw) return NULL;
    aligned = raw + sizeof(void *);
    aligned += (128 - (uintptr_t)aligned % 128) % 128;
    memcpy(aligned - sizeof(void *), &raw, sizeof(void *));
    return (float *)aligned;
}

static inline void @_free_floats(float *data) {
    void *raw;
    if (!data) return;
    memcpy(&raw, (unsigned char *)data - sizeof(void *), sizeof(void *));
    free(raw);
}

/* Allocates `count` tensors (and, when `next` is not NULL, a second array for
 * each tensor a training step updates). */
static inline int @_alloc_tensors(float **tensor, float **next, int count) {
    int i;
    for (i = 0; i < count; ++i) {
        tensor[i] = @_alloc_floats(@_tensor_numel[i]);
        if (!tensor[i]) return 0;
        if (next && @_tensor_updated[i]) {
            next[i] = @_alloc_floats(@_tensor_numel[i]);
            if (!next[i]) return 0;
        }
    }
    return 1;
}
)C";

}  // namespace strata::codegen
