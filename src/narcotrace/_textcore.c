/* narcotrace._textcore: the text kernels of `scan` that are pure loops over code points, among them:
 *
 * - hash_ngrams: the hashed char_wb and word n-grams of a batch of texts, with their positions, the same
 *   values in the same order as the NumPy version in narcotrace/online/ngrams.py (which stays as the
 *   reference and the fallback when this module is not built).
 * - trie_spans: the lexicon's trie matched left to right, with exactly the semantics of the regular
 *   expression that narcotrace/online/lexicon builds from the same trie (tried in the same order, with
 *   the same backtracking), so the matches are the regex's own.
 *
 * Character classes are CPython's own: str.isspace() is Py_UNICODE_ISSPACE and the regex engine's \w is
 * Py_UNICODE_ISALNUM or "_", \s is Py_UNICODE_ISSPACE.
 *
 * Results are returned as bytes of native integers, which Python wraps with numpy.frombuffer, so this
 * module needs only the Python headers to build.
 *
 * ABI_VERSION is checked by the Python side: bump it whenever a function's arguments or results change,
 * so that a stale build is never used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>
#include <math.h>

#define ABI_VERSION 5

static const uint64_t B = 0x100000001B3ULL; /* FNV prime, as in ngrams.py */

static inline uint64_t fmix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

static inline int64_t bucket(uint64_t h, uint64_t n) {
    if ((n & (n - 1)) == 0) return (int64_t)(h & (n - 1));
    return (int64_t)(h % n);
}

#define PUSH(buf, type, value) (((type *)(buf).data)[(buf).len++] = (type)(value))


/* Scratch space kept between calls (the GIL is held throughout): a fresh allocation per batch would
 * cost more in page faults than the hashing itself. */
typedef struct {
    void *p;
    size_t cap;
} Scratch;

static void *scratch(Scratch *s, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes > s->cap) {
        size_t cap = bytes + bytes / 4;
        void *p = realloc(s->p, cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        s->p = p;
        s->cap = cap;
    }
    return s->p;
}

static Scratch S_c, S_sp, S_wd, S_doc, S_tok, S_nnul, S_nsp, S_dstart, S_wh, S_ws, S_we;
static Scratch *const ALL_SCRATCH[] = {&S_c, &S_sp, &S_wd, &S_doc, &S_tok, &S_nnul, &S_nsp, &S_dstart,
                                       &S_wh, &S_ws, &S_we};
/* Kept between calls up to this many positions (a batch of 4,000 short posts is ~600,000: ~28 MiB of
 * scratch); a batch of long pages (up to 4 M characters) gives its scratch back when it is done. */
#define SCRATCH_KEEP (1 << 20)

static void scratch_release(void) {
    for (size_t i = 0; i < sizeof(ALL_SCRATCH) / sizeof(ALL_SCRATCH[0]); i++) {
        free(ALL_SCRATCH[i]->p);
        ALL_SCRATCH[i]->p = NULL;
        ALL_SCRATCH[i]->cap = 0;
    }
}

/* a token separator: white space, or the NUL between docs (c is 0 only for NUL, 32 for white space) */
#define IS_SEP(q) (sp[q] | (c[q] == 0))
/* The longest char n-gram starting at q, up to hi: within the batch, no NUL in [q, q + n) and no white space in
 * [q + 1, q + n - 1) (next_sp[q + 1] >= q + 1, so length 2 always passes that one) */
#define LONGEST_AT(q) min_ssize(min_ssize((Py_ssize_t)hi, L - (q)), \
                                min_ssize(next_nul[q] - (q), next_sp[(q) + 1] - (q) + 1))
static inline Py_ssize_t min_ssize(Py_ssize_t a, Py_ssize_t b) { return a < b ? a : b; }
/* An output array written straight into a bytes object of the size it needs (or a bound, cut at the end). */
typedef struct {
    PyObject *bytes;
    char *data;
    Py_ssize_t len, item;
} Out;

static int out_new(Out *o, Py_ssize_t item, Py_ssize_t cap) {
    o->bytes = PyBytes_FromStringAndSize(NULL, cap * item);
    if (o->bytes == NULL) return -1;
    o->data = PyBytes_AS_STRING(o->bytes);
    o->len = 0;
    o->item = item;
    return 0;
}

static int out_finish(Out *o) {
    /* the word outputs were sized for unigrams and bigrams; the char outputs exactly */
    if (o->len * o->item == PyBytes_GET_SIZE(o->bytes)) return 0;
    return _PyBytes_Resize(&o->bytes, o->len * o->item);
}

/* hash_ngrams(texts, n_char, n_word, char_lo, char_hi, word_lo, word_hi) ->
 *   (char_doc i32, char_col i64, char_start i64, char_tok i64,
 *    word_doc i32, word_col i64, word_start i64, word_end i64, word_tok i64,
 *    tok_doc i32, tok_start i64, tok_end i64)  each as bytes */
static PyObject *hash_ngrams(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *texts;
    unsigned long long n_char, n_word;
    int lo, hi, wlo, whi;
    if (!PyArg_ParseTuple(args, "O!KKiiii", &PyList_Type, &texts, &n_char, &n_word, &lo, &hi, &wlo, &whi))
        return NULL;
    if (n_char == 0 || n_word == 0 || lo < 1 || hi < lo || hi > 64) {
        PyErr_SetString(PyExc_ValueError, "hash_ngrams: bad feature sizes or n-gram range");
        return NULL;
    }
    Py_ssize_t n_docs = PyList_GET_SIZE(texts);
    Py_ssize_t L = n_docs > 0 ? n_docs - 1 : 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *t = PyList_GET_ITEM(texts, d);
        if (!PyUnicode_Check(t)) {
            PyErr_SetString(PyExc_TypeError, "hash_ngrams: texts must be str");
            return NULL;
        }
        L += PyUnicode_GET_LENGTH(t) + 2;
    }
    if (L >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "hash_ngrams: a batch of 2^31 characters or more; hash it in parts");
        return NULL;
    }
    size_t Lz = (size_t)L + 1;
    uint32_t *c = (uint32_t *)scratch(&S_c, Lz * 4); /* code points (32 for white space, 0 for NUL) */
    uint8_t *sp = (uint8_t *)scratch(&S_sp, Lz);
    uint8_t *wd = (uint8_t *)scratch(&S_wd, Lz);
    int32_t *doc_of = (int32_t *)scratch(&S_doc, Lz * 4);
    /* positions and token numbers fit 32 bits (a batch is at most a few million characters): half the memory
       the passes below stream */
    int32_t *tok_at = (int32_t *)scratch(&S_tok, Lz * 4);
    int32_t *next_nul = (int32_t *)scratch(&S_nnul, Lz * 4);
    int32_t *next_sp = (int32_t *)scratch(&S_nsp, Lz * 4);
    int64_t *doc_start = (int64_t *)scratch(&S_dstart, (size_t)(n_docs + 1) * 8);
    if (!c || !sp || !wd || !doc_of || !tok_at || !next_nul || !next_sp || !doc_start) return NULL;
    /* the batch as one array: " text " per doc, docs joined by NUL; the NUL after a doc is that doc's
       (as in the NumPy version, which repeats each doc's index over its length + 1) */
    Py_ssize_t p = 0, n_tok = 0, n_wstart = 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *t = PyList_GET_ITEM(texts, d);
        int kind = PyUnicode_KIND(t);
        const void *data = PyUnicode_DATA(t);
        Py_ssize_t n = PyUnicode_GET_LENGTH(t);
        if (d) {
            c[p] = 0; sp[p] = 0; wd[p] = 0; doc_of[p] = (int32_t)(d - 1); p++;
        }
        doc_start[d] = p;
        c[p] = 32; sp[p] = 1; wd[p] = 0; doc_of[p] = (int32_t)d; p++;
        for (Py_ssize_t i = 0; i < n; i++, p++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            uint8_t s_, w_;
            if (ch < 0x80) {
                s_ = (uint8_t)(ch != 0 && Py_UNICODE_ISSPACE(ch));
                w_ = (uint8_t)((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                               ch == '_');
            } else if (ch < 0x10000) {
                s_ = (uint8_t)Py_UNICODE_ISSPACE(ch);
                w_ = (uint8_t)(!s_ && Py_UNICODE_ISALNUM(ch));
            } else {
                s_ = w_ = 0;
            }
            sp[p] = s_;
            wd[p] = w_;
            uint32_t v = s_ ? 32 : ch;
            if (v >= 0x31 && v <= 0x39) v = 0x30;
            c[p] = v;
            doc_of[p] = (int32_t)d;
        }
        c[p] = 32; sp[p] = 1; wd[p] = 0; doc_of[p] = (int32_t)d; p++;
    }
    /* where the next NUL and the next space are, at or after each position */
    {
        int32_t nn = (int32_t)L, ns = (int32_t)L;
        for (Py_ssize_t q = L - 1; q >= 0; q--) {
            if (c[q] == 0) nn = (int32_t)q;
            if (sp[q]) ns = (int32_t)q;
            next_nul[q] = nn;
            next_sp[q] = ns;
        }
        next_nul[L] = (int32_t)L;
        next_sp[L] = (int32_t)L;
    }
    /* tokens (whitespace-delimited words) and word starts: counted first, to size the outputs */
    for (Py_ssize_t q = 0; q < L; q++) {
        n_tok += !IS_SEP(q) && (q == 0 || IS_SEP(q - 1));
        n_wstart += wd[q] && (q == 0 || !wd[q - 1]);
    }
    Py_ssize_t n_char_max = L * (hi - lo + 1);
    PyObject *result = NULL;
    Out O_cd = {0}, O_cc = {0}, O_cs = {0}, O_ct = {0}, O_wd = {0}, O_wc = {0}, O_ws = {0}, O_we = {0},
        O_wt = {0}, O_td = {0}, O_ts = {0}, O_te = {0};
    Out *outs[12] = {&O_cd, &O_cc, &O_cs, &O_ct, &O_wd, &O_wc, &O_ws, &O_we, &O_wt, &O_td, &O_ts, &O_te};
    int64_t *wstart = (int64_t *)scratch(&S_ws, (size_t)(n_wstart + 1) * 8);
    int64_t *wend = (int64_t *)scratch(&S_we, (size_t)(n_wstart + 1) * 8);
    uint64_t *wh = (uint64_t *)scratch(&S_wh, (size_t)(n_wstart + 1) * 8);
    if (!wstart || !wend || !wh) return NULL;
    /* count the char n-grams of each length first (one pass), so that each output is allocated once at its
       size and each length's n-grams have their place in it: all of length lo, then lo + 1, ... */
    Py_ssize_t n_of_len[65] = {0};
    const int from = lo > 2 ? lo : 2; /* char n-grams are at least 2 long, as in the NumPy version */
    for (Py_ssize_t q = 0; q < L; q++) {
        const Py_ssize_t last = LONGEST_AT(q);
        for (int n = from; n <= last; n++) n_of_len[n] += !(sp[q] && sp[q + n - 1]); /* not space at both ends */
    }
    n_char_max = 0;
    for (int n = lo; n <= hi; n++) n_char_max += n_of_len[n];
    if (out_new(&O_cd, 4, n_char_max) || out_new(&O_cc, 8, n_char_max) || out_new(&O_cs, 8, n_char_max) ||
        out_new(&O_ct, 8, n_char_max) || out_new(&O_td, 4, n_tok) || out_new(&O_ts, 8, n_tok) ||
        out_new(&O_te, 8, n_tok) || out_new(&O_wd, 4, 2 * n_wstart) || out_new(&O_wc, 8, 2 * n_wstart) ||
        out_new(&O_ws, 8, 2 * n_wstart) || out_new(&O_we, 8, 2 * n_wstart) || out_new(&O_wt, 8, 2 * n_wstart))
        goto done;
    {
        int32_t k = -1;
        Py_ssize_t iw = 0, ie = 0;
        for (Py_ssize_t q = 0; q < L; q++) {
            int sep = IS_SEP(q);
            int sep_prev = q == 0 || IS_SEP(q - 1);
            int sep_next = q == L - 1 || IS_SEP(q + 1);
            if (!sep && sep_prev) {
                PUSH(O_td, int32_t, doc_of[q]);
                PUSH(O_ts, int64_t, q - doc_start[doc_of[q]] - 1);
                k++;
            }
            if (!sep && sep_next) PUSH(O_te, int64_t, q + 1 - doc_start[doc_of[q]] - 1);
            tok_at[q] = k;
            if (wd[q] && (q == 0 || !wd[q - 1])) wstart[iw++] = q;
            if (wd[q] && (q == L - 1 || !wd[q + 1])) wend[ie++] = q + 1;
        }
    }
    /* char_wb n-grams: no whitespace inside, no NUL anywhere, not all padding. One pass over the positions
       computes every length's hash at a position (h = c[q], then h * B + c[q + n - 1] for n = 2, 3, ...) and
       writes each n-gram at the next place of its length's part of the outputs: the order is by length, then
       position, as the NumPy version's, and the batch is streamed once instead of once per length. */
    {
        Py_ssize_t at[65];
        Py_ssize_t next = 0;
        for (int n = lo; n <= hi; n++) {
            at[n] = next;
            next += n_of_len[n];
        }
        int32_t *od = (int32_t *)O_cd.data;
        int64_t *oc = (int64_t *)O_cc.data, *os = (int64_t *)O_cs.data, *ot = (int64_t *)O_ct.data;
        for (Py_ssize_t q = 0; q < L; q++) {
            uint64_t hv = c[q];
            const int32_t d = doc_of[q];
            const Py_ssize_t last = LONGEST_AT(q);
            for (int n = 2; n <= last; n++) {
                hv = hv * B + c[q + n - 1];
                if (n < lo || (sp[q] && sp[q + n - 1])) continue;
                const int64_t first = q + sp[q];
                const Py_ssize_t k = at[n]++;
                od[k] = d;
                oc[k] = bucket(fmix(hv ^ (0x9E3779B97F4A7C15ULL * (uint64_t)n)), n_char);
                os[k] = first - doc_start[d] - 1;
                ot[k] = tok_at[first];
            }
        }
        O_cd.len = O_cc.len = O_cs.len = O_ct.len = n_char_max;
    }
    /* word n-grams: runs of word characters (hash c[s] + c[s+1]*B + ...), and consecutive pairs in a doc */
    Py_ssize_t nw = n_wstart;
    for (Py_ssize_t i = 0; i < nw; i++) {
        uint64_t v = 0, pw = 1;
        for (int64_t q = wstart[i]; q < wend[i]; q++) {
            v += (uint64_t)c[q] * pw;
            pw *= B;
        }
        wh[i] = v;
    }
    if (wlo <= 1) {
        for (Py_ssize_t i = 0; i < nw; i++) {
            int32_t d = doc_of[wstart[i]];
            int64_t off = doc_start[d] + 1;
            PUSH(O_wd, int32_t, d);
            PUSH(O_wc, int64_t, bucket(fmix(wh[i] ^ 0x51ED27A1ULL), n_word));
            PUSH(O_ws, int64_t, wstart[i] - off);
            PUSH(O_we, int64_t, wend[i] - off);
            PUSH(O_wt, int64_t, tok_at[wstart[i]]);
        }
    }
    if (whi >= 2) {
        for (Py_ssize_t i = 0; i + 1 < nw; i++) {
            int32_t d = doc_of[wstart[i]];
            if (d != doc_of[wstart[i + 1]]) continue;
            int64_t off = doc_start[d] + 1;
            uint64_t bh = fmix((wh[i] * 0x2545F4914F6CDD1DULL + wh[i + 1]) ^ 0xB16B00B5ULL);
            PUSH(O_wd, int32_t, d);
            PUSH(O_wc, int64_t, bucket(bh, n_word));
            PUSH(O_ws, int64_t, wstart[i] - off);
            PUSH(O_we, int64_t, wend[i + 1] - off);
            PUSH(O_wt, int64_t, tok_at[wstart[i]]);
        }
    }
    for (int i = 0; i < 12; i++)
        if (out_finish(outs[i])) goto done;
    result = PyTuple_New(12);
    if (result == NULL) goto done;
    for (int i = 0; i < 12; i++) {
        PyTuple_SET_ITEM(result, i, outs[i]->bytes);
        outs[i]->bytes = NULL;
    }
done:
    for (int i = 0; i < 12; i++) Py_XDECREF(outs[i]->bytes);
    if (L > SCRATCH_KEEP) scratch_release();
    return result;
}

/* ---- the lexicon trie ------------------------------------------------------------------------------
 * A compiled trie is two int32 arrays. Per node, 5 values: the offset and count of its literal children
 * in the second array, its "\s+" child, its "\w*" child (-1: none), and how it may end (-1: it may not;
 * T_END: where no word character follows, "(?!\w)"; T_END_ANY: anywhere, the end after a "\w*"). Per
 * literal child, 2 values, sorted by character: (character, child node).
 *
 * The regex tries a node's alternatives in this order: the literal children, "\s+" then its child, "\w*"
 * then its child, the end. Literal children have distinct characters, so at most one of them can match
 * and their own order does not matter: it is found by binary search.
 */
typedef struct {
    int32_t *nodes; /* 5 per node */
    int32_t *lits;  /* 2 per literal child */
    Py_ssize_t n_nodes, n_lits;
} Trie;

#define T_END 3
#define T_END_ANY 4

static inline int is_word(Py_UCS4 ch) {
    if (ch < 0x80) return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    return Py_UNICODE_ISALNUM(ch);
}

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

static Py_ssize_t trie_match(const Trie *t, const Text *s, int32_t node, Py_ssize_t pos, int depth) {
    if (depth > 10000) return -2; /* cannot happen with lexicon terms; refuse rather than overflow */
    const int32_t *no = t->nodes + 5 * (Py_ssize_t)node;
    Py_ssize_t r;
    if (no[1] > 0 && pos < s->n) {
        Py_UCS4 ch = PyUnicode_READ(s->kind, s->data, pos);
        const int32_t *lits = t->lits + 2 * (Py_ssize_t)no[0];
        int32_t lo = 0, hi = no[1] - 1;
        while (lo <= hi) {
            int32_t mid = (lo + hi) >> 1;
            Py_UCS4 key = (Py_UCS4)lits[2 * mid];
            if (key == ch) {
                r = trie_match(t, s, lits[2 * mid + 1], pos + 1, depth + 1);
                if (r != -1) return r;
                break;
            }
            if (key < ch) lo = mid + 1;
            else hi = mid - 1;
        }
    }
    if (no[2] >= 0) { /* \s+ (greedy, then giving back) */
        Py_ssize_t j = pos;
        while (j < s->n && Py_UNICODE_ISSPACE(PyUnicode_READ(s->kind, s->data, j))) j++;
        for (Py_ssize_t q = j; q > pos; q--) {
            r = trie_match(t, s, no[2], q, depth + 1);
            if (r != -1) return r;
        }
    }
    if (no[3] >= 0) { /* \w* */
        Py_ssize_t j = pos;
        while (j < s->n && is_word(PyUnicode_READ(s->kind, s->data, j))) j++;
        for (Py_ssize_t q = j; q >= pos; q--) {
            r = trie_match(t, s, no[3], q, depth + 1);
            if (r != -1) return r;
        }
    }
    if (no[4] == T_END_ANY) return pos;
    if (no[4] == T_END && (pos >= s->n || !is_word(PyUnicode_READ(s->kind, s->data, pos)))) return pos;
    return -1;
}

static void trie_free(PyObject *capsule) {
    Trie *t = (Trie *)PyCapsule_GetPointer(capsule, "narcotrace._textcore.Trie");
    if (t) {
        free(t->nodes);
        free(t->lits);
        free(t);
    }
}

/* trie_compile(nodes: bytes, lits: bytes) -> capsule */
static PyObject *trie_compile(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer nb, lb;
    if (!PyArg_ParseTuple(args, "y*y*", &nb, &lb)) return NULL;
    PyObject *out = NULL;
    Trie *t = NULL;
    if (nb.len % 20 || lb.len % 8 || nb.len == 0) {
        PyErr_SetString(PyExc_ValueError, "trie_compile: malformed arrays");
        goto fail;
    }
    t = (Trie *)calloc(1, sizeof(Trie));
    if (!t) { PyErr_NoMemory(); goto fail; }
    t->n_nodes = nb.len / 20;
    t->n_lits = lb.len / 8;
    t->nodes = (int32_t *)malloc((size_t)nb.len);
    t->lits = (int32_t *)malloc((size_t)(lb.len > 0 ? lb.len : 1));
    if (!t->nodes || !t->lits) { PyErr_NoMemory(); goto fail; }
    memcpy(t->nodes, nb.buf, (size_t)nb.len);
    memcpy(t->lits, lb.buf, (size_t)lb.len);
    for (Py_ssize_t i = 0; i < t->n_nodes; i++) {
        const int32_t *no = t->nodes + 5 * i;
        int ok = no[0] >= 0 && no[1] >= 0 && (Py_ssize_t)no[0] + no[1] <= t->n_lits && no[2] >= -1 &&
                 no[2] < t->n_nodes && no[3] >= -1 && no[3] < t->n_nodes &&
                 (no[4] == -1 || no[4] == T_END || no[4] == T_END_ANY);
        for (int32_t k = 0; ok && k < no[1]; k++) {
            const int32_t *l = t->lits + 2 * ((Py_ssize_t)no[0] + k);
            ok = l[1] >= 0 && l[1] < t->n_nodes && (k == 0 || l[-2] < l[0]);
        }
        if (!ok) {
            PyErr_SetString(PyExc_ValueError, "trie_compile: bad node (children out of range or not sorted)");
            goto fail;
        }
    }
    out = PyCapsule_New(t, "narcotrace._textcore.Trie", trie_free);
    if (!out) goto fail;
    PyBuffer_Release(&nb);
    PyBuffer_Release(&lb);
    return out;
fail:
    if (t) { free(t->nodes); free(t->lits); free(t); }
    PyBuffer_Release(&nb);
    PyBuffer_Release(&lb);
    return NULL;
}

/* The trie's next match at or after *pos, as re.finditer of "(?<!\w)(?:...)" gives it: 1 with [*start, *end)
 * (and *pos moved past it), 0 when there is none, -1 with an exception set. */
static int trie_next(const Trie *t, const Text *s, Py_ssize_t *pos, Py_ssize_t *start, Py_ssize_t *end) {
    Py_ssize_t p = *pos;
    while (p < s->n) {
        if (p > 0 && is_word(PyUnicode_READ(s->kind, s->data, p - 1))) {
            p++;
            continue;
        }
        Py_ssize_t e = trie_match(t, s, 0, p, 0);
        if (e == -2) {
            PyErr_SetString(PyExc_RecursionError, "trie_spans: term too deep");
            return -1;
        }
        if (e >= 0 && e > p) {
            *start = p;
            *end = *pos = e;
            return 1;
        }
        p++;
    }
    *pos = p;
    return 0;
}

/* trie_spans(trie, text) -> [start, end, start, end, ...]: what re.finditer of "(?<!\w)(?:...)" gives */
static PyObject *trie_spans(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *capsule, *text;
    if (!PyArg_ParseTuple(args, "OU", &capsule, &text)) return NULL;
    Trie *t = (Trie *)PyCapsule_GetPointer(capsule, "narcotrace._textcore.Trie");
    if (!t) return NULL;
    Text s = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t pos = 0, a, b;
    int r;
    while ((r = trie_next(t, &s, &pos, &a, &b)) == 1) {
        PyObject *x = PyLong_FromSsize_t(a), *y = PyLong_FromSsize_t(b);
        if (!x || !y || PyList_Append(out, x) || PyList_Append(out, y)) {
            Py_XDECREF(x);
            Py_XDECREF(y);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(x);
        Py_DECREF(y);
    }
    if (r < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}


/* ---- normalisation and lexicon scans ----------------------------------------------------------------
 * Each returns what a regular expression's finditer (plus the few lines of Python around it) gives in
 * narcotrace/online/normalize.py and lexicon/, as a flat list of ints; the Python code stays as the
 * reference and the fallback. Classes as in sre: \d is Py_UNICODE_ISDECIMAL, \s Py_UNICODE_ISSPACE, \w
 * Py_UNICODE_ISALNUM or "_", so [^\W_] is Py_UNICODE_ISALNUM and [^\W\d_] is alnum and not decimal.
 */
#define RD(i) PyUnicode_READ(s.kind, s.data, (i))

static inline int is_alnum(Py_UCS4 ch) {
    if (ch < 0x80) return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    return Py_UNICODE_ISALNUM(ch);
}

static inline int is_digit(Py_UCS4 ch) {
    if (ch < 0x80) return ch >= '0' && ch <= '9';
    return Py_UNICODE_ISDECIMAL(ch);
}

static inline int is_space(Py_UCS4 ch) {
    if (ch < 0x80) return ch == ' ' || (ch >= '\t' && ch <= '\r') || (ch >= 0x1c && ch <= 0x1f);
    return Py_UNICODE_ISSPACE(ch);
}

static inline int is_letter(Py_UCS4 ch) { /* [^\W\d_] */
    if (ch < 0x80) return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    return Py_UNICODE_ISALNUM(ch) && !Py_UNICODE_ISDECIMAL(ch);
}

static int append_ints(PyObject *list, const Py_ssize_t *v, int k) {
    for (int i = 0; i < k; i++) {
        PyObject *o = PyLong_FromSsize_t(v[i]);
        if (!o) return -1;
        int r = PyList_Append(list, o);
        Py_DECREF(o);
        if (r) return -1;
    }
    return 0;
}

#define TEXT_ARG(s)                                                                  \
    PyObject *text_;                                                                 \
    if (!PyArg_ParseTuple(args, "U", &text_)) return NULL;                           \
    Text s = {PyUnicode_KIND(text_), PyUnicode_DATA(text_), PyUnicode_GET_LENGTH(text_)}

/* exotic_runs(text) -> [start, end, ...]: re.finditer("[^\x00-\x7f\u0400-\u04ff]+") */
static PyObject *exotic_runs(PyObject *Py_UNUSED(self), PyObject *args) {
    TEXT_ARG(s);
    PyObject *out = PyList_New(0);
    if (!out || PyUnicode_IS_ASCII(text_)) return out;
    Py_ssize_t i = 0;
    while (i < s.n) {
        Py_UCS4 ch = RD(i);
        if (ch < 0x80 || (ch >= 0x400 && ch <= 0x4ff)) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < s.n && !((ch = RD(j)) < 0x80 || (ch >= 0x400 && ch <= 0x4ff))) j++;
        Py_ssize_t v[2] = {i, j};
        if (append_ints(out, v, 2)) { Py_DECREF(out); return NULL; }
        i = j;
    }
    return out;
}

static inline int is_sep(Py_UCS4 ch) { /* [ .\-_*·•|/\\~+,:'"] */
    switch (ch) {
    case ' ': case '.': case '-': case '_': case '*': case 0xb7: case 0x2022: case '|': case '/': case '\\':
    case '~': case '+': case ',': case ':': case '\'': case '"':
        return 1;
    default:
        return 0;
    }
}

/* sep_pairs(text) -> [start, end, k, ...]: re.finditer(r"(S{1,3})[^\W_]\1[^\W_](?![^\W_])") with S the
 * separators above (k: the length of group 1, greedy, tried longest first) */
static PyObject *sep_pairs(PyObject *Py_UNUSED(self), PyObject *args) {
    TEXT_ARG(s);
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t p = 0;
    while (p < s.n) {
        int kmax = 0;
        while (kmax < 3 && p + kmax < s.n && is_sep(RD(p + kmax))) kmax++;
        Py_ssize_t end = -1;
        int k;
        for (k = kmax; k >= 1; k--) {
            Py_ssize_t a = p + k, b = p + 2 * k + 1;
            if (b >= s.n || !is_alnum(RD(a)) || !is_alnum(RD(b))) continue;
            int same = 1;
            for (int t = 0; t < k && same; t++) same = RD(a + 1 + t) == RD(p + t);
            if (!same || (b + 1 < s.n && is_alnum(RD(b + 1)))) continue;
            end = b + 1;
            break;
        }
        if (end < 0) {
            p++;
            continue;
        }
        Py_ssize_t v[3] = {p, end, k};
        if (append_ints(out, v, 3)) { Py_DECREF(out); return NULL; }
        p = end;
    }
    return out;
}

/* mixed_words(text) -> [start, end, ...]: normalize.words()' spans, sorted and unique: the maximal runs of
 * [^\W_] around each ASCII digit beside a letter ([^\W\d_]) and each a-z beside a Cyrillic letter
 * (U+0400-U+04FF) */
static PyObject *mixed_words(PyObject *Py_UNUSED(self), PyObject *args) {
    TEXT_ARG(s);
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    int ascii = PyUnicode_IS_ASCII(text_);
    Py_ssize_t done = -1; /* end of the last span given: hits inside it give the same span */
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (i < done) continue;
        Py_UCS4 ch = RD(i);
        int hit = 0;
        if (ch >= '0' && ch <= '9') {
            hit = (i > 0 && is_letter(RD(i - 1))) || (i + 1 < s.n && is_letter(RD(i + 1)));
        } else if (!ascii && ch >= 'a' && ch <= 'z') {
            Py_UCS4 a = i > 0 ? RD(i - 1) : 0, b = i + 1 < s.n ? RD(i + 1) : 0;
            hit = (a >= 0x400 && a <= 0x4ff) || (b >= 0x400 && b <= 0x4ff);
        }
        if (!hit) continue;
        Py_ssize_t st = i, en = i + 1;
        while (st > 0 && is_alnum(RD(st - 1))) st--;
        while (en < s.n && is_alnum(RD(en))) en++;
        Py_ssize_t v[2] = {st, en};
        if (append_ints(out, v, 2)) { Py_DECREF(out); return NULL; }
        done = en;
    }
    return out;
}

/* triple_runs(text) -> [start, end, ...]: normalize.squash()'s loop: each re.search(r"(.)\1\1") from the
 * end of the last run, extended over the rest of the run */
static PyObject *triple_runs(PyObject *Py_UNUSED(self), PyObject *args) {
    TEXT_ARG(s);
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t p = 0;
    while (p + 2 < s.n) {
        Py_UCS4 ch = RD(p);
        if (ch == '\n' || RD(p + 1) != ch || RD(p + 2) != ch) {
            p++;
            continue;
        }
        Py_ssize_t e = p + 3;
        while (e < s.n && RD(e) == ch) e++;
        Py_ssize_t v[2] = {p, e};
        if (append_ints(out, v, 2)) { Py_DECREF(out); return NULL; }
        p = e;
    }
    return out;
}

/* The bundled price regexes of lexicon/ru.yaml and en.yaml, grouped behind their shared number prefix:
 *   \d(?<!\d\d)(?:(?P<r0>\d*(?:[.,]\d+)?\s?(?:гр|г|грамм\w*|gr|g)(?!\w))
 *               |(?P<r1>[\d\s]{1,8}\s?(?:тг|тенге|теңге|₸|kzt|tg|tenge|руб\w*|р\.|usd|\$)(?!\w))
 *               |(?P<r2>\d*\s?(?:шт|штук\w*|pcs)(?!\w))
 *               |(?P<r3>\d*(?:[.,]\d+)?\s?(?:к|k|тыс\w*|мың|myn|ming)(?!\w))
 *               |(?P<r4>\d*(?:[.,]\d+)?\s?(?:oz|qp|hp|zip|zips)(?!\w)))
 * lexicon/__init__.py uses this only when the lexicon's grouped pattern is exactly this one.
 * Backtracking: giving back digits of \d* or \d+ cannot help (what follows never starts with a digit) and
 * \s? then a unit cannot match at a space, so only [\d\s]{1,8} gives back, one character at a time. */
typedef struct {
    const uint32_t *lit;
    int len, word_star;
} Unit;

#define U(s, star) {(const uint32_t *)U##s, (int)(sizeof(U##s) / 4 - 1), star}
static const Unit UNITS_G[] = {U("гр", 0), U("г", 0), U("грамм", 1), U("gr", 0), U("g", 0), {NULL, 0, 0}};
static const Unit UNITS_MONEY[] = {U("тг", 0), U("тенге", 0), U("теңге", 0), U("₸", 0), U("kzt", 0),
                                   U("tg", 0), U("tenge", 0), U("руб", 1), U("р.", 0), U("usd", 0),
                                   U("$", 0), {NULL, 0, 0}};
static const Unit UNITS_COUNT[] = {U("шт", 0), U("штук", 1), U("pcs", 0), {NULL, 0, 0}};
static const Unit UNITS_K[] = {U("к", 0), U("k", 0), U("тыс", 1), U("мың", 0), U("myn", 0), U("ming", 0),
                               {NULL, 0, 0}};
static const Unit UNITS_OZ[] = {U("oz", 0), U("qp", 0), U("hp", 0), U("zip", 0), U("zips", 0), {NULL, 0, 0}};
#undef U

/* the first unit (in order) at q followed by no word character: its end, or -1 */
static Py_ssize_t unit_at(const Text *t, Py_ssize_t q, const Unit *units) {
    for (const Unit *u = units; u->lit; u++) {
        if (q + u->len > t->n) continue;
        int ok = 1;
        for (int i = 0; i < u->len && ok; i++) ok = PyUnicode_READ(t->kind, t->data, q + i) == u->lit[i];
        if (!ok) continue;
        Py_ssize_t e = q + u->len;
        if (u->word_star)
            while (e < t->n && is_word(PyUnicode_READ(t->kind, t->data, e))) e++;
        if (e >= t->n || !is_word(PyUnicode_READ(t->kind, t->data, e))) return e;
    }
    return -1;
}

/* \s?UNIT(?!\w) at q */
static Py_ssize_t space_unit(const Text *t, Py_ssize_t q, const Unit *units) {
    if (q < t->n && is_space(PyUnicode_READ(t->kind, t->data, q))) {
        Py_ssize_t e = unit_at(t, q + 1, units);
        if (e >= 0) return e;
    }
    return unit_at(t, q, units);
}

/* \d*(?:[.,]\d+)?\s?UNIT(?!\w) at q (without the decimals part when decimals is 0) */
static Py_ssize_t number_unit(const Text *t, Py_ssize_t q, const Unit *units, int decimals) {
    while (q < t->n && is_digit(PyUnicode_READ(t->kind, t->data, q))) q++;
    if (decimals && q + 1 < t->n) {
        Py_UCS4 c = PyUnicode_READ(t->kind, t->data, q);
        if ((c == '.' || c == ',') && is_digit(PyUnicode_READ(t->kind, t->data, q + 1))) {
            Py_ssize_t k = q + 2;
            while (k < t->n && is_digit(PyUnicode_READ(t->kind, t->data, k))) k++;
            Py_ssize_t e = space_unit(t, k, units);
            if (e >= 0) return e;
        }
    }
    return space_unit(t, q, units);
}

/* The next match of the bundled price regexes at or after *pp (scanning state: *pp and *prev_digit), as
 * v = {start, end, alternative}: 1, or 0 when there is none. */
static int price_next(const Text *sp, Py_ssize_t *pp, int *prev_digit, Py_ssize_t v[3]) {
    const Text s = *sp;
    Py_ssize_t p = *pp;
    while (p < s.n) {
        int digit = is_digit(RD(p));
        if (!digit || *prev_digit) {
            *prev_digit = digit;
            p++;
            continue;
        }
        Py_ssize_t q = p + 1, e;
        int alt = 0;
        if ((e = number_unit(&s, q, UNITS_G, 1)) < 0) {
            alt = 1;
            Py_ssize_t j = q;
            while (j < s.n && j - q < 8 && (is_digit(RD(j)) || is_space(RD(j)))) j++;
            for (; j > q && e < 0; j--) e = space_unit(&s, j, UNITS_MONEY);
        }
        if (e < 0) { alt = 2; e = number_unit(&s, q, UNITS_COUNT, 0); }
        if (e < 0) { alt = 3; e = number_unit(&s, q, UNITS_K, 1); }
        if (e < 0) { alt = 4; e = number_unit(&s, q, UNITS_OZ, 1); }
        if (e < 0) {
            *prev_digit = 1;
            p++;
            continue;
        }
        v[0] = p;
        v[1] = e;
        v[2] = alt;
        *prev_digit = is_digit(RD(e - 1));
        *pp = e;
        return 1;
    }
    *pp = p;
    return 0;
}

/* price_spans(text) -> [start, end, alternative, ...] */
static PyObject *price_spans(PyObject *Py_UNUSED(self), PyObject *args) {
    TEXT_ARG(s);
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t p = 0, v[3];
    int prev_digit = 0;
    while (price_next(&s, &p, &prev_digit, v)) {
        if (append_ints(out, v, 3)) { Py_DECREF(out); return NULL; }
    }
    return out;
}

/* ---- lexicon matches ----------------------------------------------------------------------------------
 * lex_matches(trie or None, text, cache, resolve, price_rows or None, LexMatch) -> (matches, translit):
 * what Lexicon.match's Python loop builds (lexicon/__init__.py, the reference and the fallback). The trie's
 * matches, each the LexMatch of its surface's cached fields: cache[surface] is (head, tail, translit) with
 * head = (term, kind, category, weight) and tail = (lang, via_translit), and a surface not in the cache is
 * resolve(surface) (which caches it; None: skipped). Then the bundled prices' matches, price_rows[alternative]
 * = (head, tail). The two lists merged by (start, -end), trie matches first on ties, as the stable sort in
 * Python. translit: whether a match that may flag the post as transliterated is not inside a handle or link
 * (the character before it is not one of "@/._"). */
static PyObject *new_match(PyTypeObject *type, PyObject *head, Py_ssize_t start, Py_ssize_t end, PyObject *tail) {
    if (!PyTuple_Check(head) || PyTuple_GET_SIZE(head) != 4 || !PyTuple_Check(tail) || PyTuple_GET_SIZE(tail) != 2) {
        PyErr_SetString(PyExc_ValueError, "lex_matches: a term's fields are not (4-tuple, 2-tuple)");
        return NULL;
    }
    PyObject *a = PyLong_FromSsize_t(start), *b = PyLong_FromSsize_t(end);
    PyObject *m = (a && b) ? type->tp_alloc(type, 8) : NULL;
    if (!m) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        return NULL;
    }
    for (int i = 0; i < 4; i++) PyTuple_SET_ITEM(m, i, Py_NewRef(PyTuple_GET_ITEM(head, i)));
    PyTuple_SET_ITEM(m, 4, a);
    PyTuple_SET_ITEM(m, 5, b);
    PyTuple_SET_ITEM(m, 6, Py_NewRef(PyTuple_GET_ITEM(tail, 0)));
    PyTuple_SET_ITEM(m, 7, Py_NewRef(PyTuple_GET_ITEM(tail, 1)));
    return m;
}

static inline int append_new(PyObject *list, PyObject *item) { /* steals item */
    if (!item) return -1;
    int r = PyList_Append(list, item);
    Py_DECREF(item);
    return r;
}

static PyObject *lex_matches(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *capsule, *text, *cache, *resolve, *prices, *type_;
    if (!PyArg_ParseTuple(args, "OUO!OOO!", &capsule, &text, &PyDict_Type, &cache, &resolve, &prices, &PyType_Type,
                          &type_))
        return NULL;
    PyTypeObject *type = (PyTypeObject *)type_;
    if (!PyType_IsSubtype(type, &PyTuple_Type) || (prices != Py_None && !PyTuple_Check(prices))) {
        PyErr_SetString(PyExc_TypeError, "lex_matches: expects a tuple type and a tuple of price rows or None");
        return NULL;
    }
    Trie *t = NULL;
    if (capsule != Py_None && !(t = (Trie *)PyCapsule_GetPointer(capsule, "narcotrace._textcore.Trie"))) return NULL;
    Text s = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    PyObject *words = PyList_New(0), *nums = PyList_New(0), *out = NULL;
    int translit = 0;
    if (!words || !nums) goto fail;
    if (t) {
        Py_ssize_t pos = 0, a, b;
        int r;
        while ((r = trie_next(t, &s, &pos, &a, &b)) == 1) {
            PyObject *surface = PyUnicode_Substring(text, a, b);
            if (!surface) goto fail;
            PyObject *found = PyDict_GetItemWithError(cache, surface);
            if (found) Py_INCREF(found);
            else if (!PyErr_Occurred()) found = PyObject_CallOneArg(resolve, surface);
            Py_DECREF(surface);
            if (!found) goto fail;
            if (found == Py_None) {
                Py_DECREF(found);
                continue;
            }
            if (!PyTuple_Check(found) || PyTuple_GET_SIZE(found) != 3) {
                Py_DECREF(found);
                PyErr_SetString(PyExc_ValueError, "lex_matches: a cached surface is not (head, tail, translit)");
                goto fail;
            }
            int may = PyObject_IsTrue(PyTuple_GET_ITEM(found, 2));
            if (may > 0 && !translit) {
                Py_UCS4 c = a > 0 ? PyUnicode_READ(s.kind, s.data, a - 1) : 0;
                translit = a == 0 || !(c == '@' || c == '/' || c == '.' || c == '_');
            }
            PyObject *m = may < 0 ? NULL : new_match(type, PyTuple_GET_ITEM(found, 0), a, b, PyTuple_GET_ITEM(found, 1));
            Py_DECREF(found);
            if (append_new(words, m)) goto fail;
        }
        if (r < 0) goto fail;
    }
    if (prices != Py_None) {
        Py_ssize_t p = 0, v[3];
        int prev_digit = 0;
        while (price_next(&s, &p, &prev_digit, v)) {
            PyObject *row = v[2] < PyTuple_GET_SIZE(prices) ? PyTuple_GET_ITEM(prices, v[2]) : NULL;
            if (!row || !PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 2) {
                PyErr_SetString(PyExc_ValueError, "lex_matches: no (head, tail) row for a price alternative");
                goto fail;
            }
            if (append_new(nums, new_match(type, PyTuple_GET_ITEM(row, 0), v[0], v[1], PyTuple_GET_ITEM(row, 1))))
                goto fail;
        }
    }
    Py_ssize_t nw = PyList_GET_SIZE(words), nn = PyList_GET_SIZE(nums), i = 0, j = 0;
    if (nn == 0) {
        out = Py_NewRef(words);
    } else if (nw == 0) {
        out = Py_NewRef(nums);
    } else {
        if (!(out = PyList_New(0))) goto fail;
        while (i < nw || j < nn) {
            PyObject *take;
            if (j == nn) take = PyList_GET_ITEM(words, i++);
            else if (i == nw) take = PyList_GET_ITEM(nums, j++);
            else {
                PyObject *w = PyList_GET_ITEM(words, i), *n = PyList_GET_ITEM(nums, j);
                Py_ssize_t ws = PyLong_AsSsize_t(PyTuple_GET_ITEM(w, 4)), we = PyLong_AsSsize_t(PyTuple_GET_ITEM(w, 5));
                Py_ssize_t ns = PyLong_AsSsize_t(PyTuple_GET_ITEM(n, 4)), ne = PyLong_AsSsize_t(PyTuple_GET_ITEM(n, 5));
                if (ws < ns || (ws == ns && we >= ne)) take = PyList_GET_ITEM(words, i++);
                else take = PyList_GET_ITEM(nums, j++);
            }
            if (PyList_Append(out, take)) goto fail;
        }
    }
    Py_DECREF(words);
    Py_DECREF(nums);
    PyObject *res = Py_BuildValue("(NO)", out, translit ? Py_True : Py_False);
    return res;
fail:
    Py_XDECREF(words);
    Py_XDECREF(nums);
    Py_XDECREF(out);
    return NULL;
}
#undef RD

/* ---- the linear model's scores, without the design matrix ---------------------------------------------
 * linear_scores(n_docs, char_doc i32, char_col i64, word_doc i32, word_col i64, lex_doc i64, lex_col i64,
 *               lex_value, dense f64 (n_docs x n_dense), weights f64 (width x k), k,
 *               word_offset, lex_offset, dense_offset) -> bytes of f64 (n_docs x k)
 *
 * X @ weights for the X that classify.featurise builds (what scipy's csr_matvecs computes on it, with the
 * same additions in the same order, so the sums are the same to the last bit): per post, its char n-gram
 * occurrences in batch order, each 1/sqrt(the post's char count); then its word n-grams, 1/sqrt(its word
 * count); then its distinct lexicon columns in ascending order, each lex_value (the matrix sums duplicates,
 * sorts, and caps at 1); then its non-zero dense features in column order. Each entry adds a*w to each of
 * the k sums, as scipy's axpy does. The lexicon arrays must be in post order (lex_arrays' order). */
static int add_ngrams(double *y, Py_ssize_t n_docs, const int32_t *doc, const int64_t *col, Py_ssize_t n,
                      const double *w, int64_t offset, int64_t width, int k) {
    int64_t *count = (int64_t *)calloc((size_t)(n_docs > 0 ? n_docs : 1), sizeof(int64_t));
    double *inv = (double *)malloc(sizeof(double) * (size_t)(n_docs > 0 ? n_docs : 1));
    if (!count || !inv) {
        free(count);
        free(inv);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (doc[i] < 0 || doc[i] >= n_docs || col[i] < 0 || offset + col[i] >= width) {
            free(count);
            free(inv);
            PyErr_SetString(PyExc_ValueError, "linear_scores: n-gram entry out of range");
            return -1;
        }
        count[doc[i]]++;
    }
    for (Py_ssize_t d = 0; d < n_docs; d++) inv[d] = 1.0 / sqrt((double)(count[d] > 1 ? count[d] : 1));
    for (Py_ssize_t i = 0; i < n; i++) {
        const double a = inv[doc[i]];
        const double *x = w + (offset + col[i]) * k;
        double *yy = y + (Py_ssize_t)doc[i] * k;
        for (int j = 0; j < k; j++) yy[j] += a * x[j];
    }
    free(count);
    free(inv);
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static PyObject *linear_scores(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_ssize_t n_docs;
    Py_buffer cd, cc, wd, wc, ld, lc, de, we;
    double lex_value;
    int k;
    long long word_off, lex_off, dense_off;
    if (!PyArg_ParseTuple(args, "ny*y*y*y*y*y*dy*y*iLLL", &n_docs, &cd, &cc, &wd, &wc, &ld, &lc, &lex_value, &de,
                          &we, &k, &word_off, &lex_off, &dense_off))
        return NULL;
    PyObject *out = NULL;
    int64_t *cols = NULL;
    Py_buffer *bufs[] = {&cd, &cc, &wd, &wc, &ld, &lc, &de, &we};
    Py_ssize_t n_c = cd.len / 4, n_w = wd.len / 4, n_l = ld.len / 8;
    int64_t width = k > 0 ? (int64_t)(we.len / 8 / k) : 0;
    Py_ssize_t n_dense = n_docs > 0 ? de.len / 8 / n_docs : 0;
    if (k <= 0 || n_docs < 0 || cc.len != n_c * 8 || wc.len != n_w * 8 || lc.len != ld.len ||
        de.len != (Py_ssize_t)(n_dense * n_docs * 8) || we.len != width * k * 8 || dense_off + n_dense > width ||
        word_off < 0 || lex_off < 0 || dense_off < 0) {
        PyErr_SetString(PyExc_ValueError, "linear_scores: arrays of the wrong sizes");
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)sizeof(double) * n_docs * k);
    if (!out) goto done;
    double *y = (double *)PyBytes_AS_STRING(out);
    memset(y, 0, sizeof(double) * (size_t)(n_docs * k));
    const double *w = (const double *)we.buf;
    if (add_ngrams(y, n_docs, (const int32_t *)cd.buf, (const int64_t *)cc.buf, n_c, w, 0, width, k) ||
        add_ngrams(y, n_docs, (const int32_t *)wd.buf, (const int64_t *)wc.buf, n_w, w, word_off, width, k))
        goto fail;
    const int64_t *ldoc = (const int64_t *)ld.buf, *lcol = (const int64_t *)lc.buf;
    const double *dense = (const double *)de.buf;
    cols = (int64_t *)malloc(sizeof(int64_t) * (size_t)(n_l > 0 ? n_l : 1));
    if (!cols) { PyErr_NoMemory(); goto fail; }
    Py_ssize_t li = 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        double *yy = y + d * k;
        Py_ssize_t m = 0;
        for (; li < n_l && ldoc[li] == d; li++) {
            if (lcol[li] < 0 || lex_off + lcol[li] >= width) {
                PyErr_SetString(PyExc_ValueError, "linear_scores: lexicon column out of range");
                goto fail;
            }
            cols[m++] = lcol[li];
        }
        if (li < n_l && ldoc[li] <= d) { /* an earlier post's entry after this post's */
            PyErr_SetString(PyExc_ValueError, "linear_scores: lexicon entries not in post order");
            goto fail;
        }
        if (m > 1) qsort(cols, (size_t)m, sizeof(int64_t), cmp_i64);
        for (Py_ssize_t i = 0; i < m; i++) {
            if (i > 0 && cols[i] == cols[i - 1]) continue;
            const double *x = w + (lex_off + cols[i]) * k;
            for (int j = 0; j < k; j++) yy[j] += lex_value * x[j];
        }
        const double *row = dense + d * n_dense;
        for (Py_ssize_t c = 0; c < n_dense; c++) {
            const double a = row[c];
            if (a == 0.0) continue;
            const double *x = w + (dense_off + c) * k;
            for (int j = 0; j < k; j++) yy[j] += a * x[j];
        }
    }
    if (li != n_l) {
        PyErr_SetString(PyExc_ValueError, "linear_scores: lexicon entries not in post order");
        goto fail;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    free(cols);
    for (int i = 0; i < 8; i++) PyBuffer_Release(bufs[i]);
    return out;
}

/* ---- indicator hints --------------------------------------------------------------------------------
 * indicator_hints(text, low) -> int: in one pass, the cheap first tests that narcotrace/online/indicators
 * runs before an extractor's full patterns (each bit is exactly the test named, which stays in
 * indicators/base.py as the reference and the fallback):
 *   1 FOUR_DIGITS  cards._FOUR_DIGITS        \d\d{3}
 *   2 DIGIT_RUN    phones._SHORT_DIGIT_RUN   \d[\d \-.()+\u00a0]{5,}\d
 *   4 GLUED        phones._LETTER_GLUED_HINT [\d)+](?<=[OoОоA-Za-z][\d)+])
 *   8 IBAN         ibans._COUNTRY_AND_CHECK  \d\d(?<=[A-Za-z]{2}\d\d)(?<![A-Za-z0-9][A-Za-z]{2}\d\d)
 *  16 LONG_TOKEN   crypto._LONG_TOKEN        [0-9A-Za-z][0-9A-Za-z]{24}
 *  32 DISGUISED    base._DISGUISED, or U+20E3 (a keycap)
 * and on the lower-cased copy:
 *  64 DEFANG       any of web._DEFANG_HINTS
 * 128 TG_LINK      "t.me", "telegram." or "tg://"
 * 256 TG_WORD      "тг", "тел", "тлг", "tg", "tlg" or "telegram"
 * and whether the post holds what the other extractors' matches all contain:
 * 512 AT           "@"                       4096 WA_LINK  "wa.me" or "whatsapp.com" (lower-cased)
 * 1024 DOT         "."                       8192 ONION    ".onion" (lower-cased)
 * 2048 SLASH       "/"                      16384 LABEL_SEP ":", "-", "–" or "—" */

static inline int is_ascii_letter(Py_UCS4 ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static inline int is_ascii_alnum(Py_UCS4 ch) { return is_ascii_letter(ch) || (ch >= '0' && ch <= '9'); }

static inline int is_disguised(Py_UCS4 ch) {
    if (ch < 0xad) return 0;
    return ch == 0xad || ch == 0x34f || ch == 0x115f || ch == 0x1160 || ch == 0x17b4 || ch == 0x17b5 ||
           (ch >= 0x180b && ch <= 0x180e) || (ch >= 0x200b && ch <= 0x200f) || (ch >= 0x202a && ch <= 0x202e) ||
           (ch >= 0x2060 && ch <= 0x2064) || (ch >= 0x2066 && ch <= 0x206f) || ch == 0x20e3 || ch == 0x3164 ||
           (ch >= 0xfe00 && ch <= 0xfe0d) || ch == 0xfeff || ch == 0xffa0 || (ch >= 0xff01 && ch <= 0xff5e) ||
           (ch >= 0x1d400 && ch <= 0x1d7ff);
}

static inline int in_phone_run(Py_UCS4 ch) { /* [\d \-.()+\u00a0] */
    return ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')' || ch == '+' || ch == 0xa0 || is_digit(ch);
}

static int has_at(Text s, Py_ssize_t i, const char *needle) { /* needle: UTF-8 of ASCII or Cyrillic */
    Py_ssize_t k = 0;
    const unsigned char *p = (const unsigned char *)needle;
    while (*p) {
        Py_UCS4 want;
        if (*p < 0x80) {
            want = *p++;
        } else { /* two-byte UTF-8 (Cyrillic) */
            want = ((Py_UCS4)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
            p += 2;
        }
        if (i + k >= s.n || PyUnicode_READ(s.kind, s.data, i + k) != want) return 0;
        k++;
    }
    return 1;
}

static PyObject *indicator_hints(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *text_, *low_;
    if (!PyArg_ParseTuple(args, "UU", &text_, &low_)) return NULL;
    Text s = {PyUnicode_KIND(text_), PyUnicode_DATA(text_), PyUnicode_GET_LENGTH(text_)};
    long bits = 0;
    Py_ssize_t digits = 0, alnum = 0, first_digit = -1;
    Py_UCS4 p1 = 0, p2 = 0, p3 = 0; /* the three characters before ch */
    for (Py_ssize_t i = 0; i < s.n; i++) {
        Py_UCS4 ch = PyUnicode_READ(s.kind, s.data, i);
        int d = is_digit(ch);
        digits = d ? digits + 1 : 0;
        if (digits >= 4) bits |= 1;
        if (in_phone_run(ch)) {
            if (d) {
                if (first_digit < 0) first_digit = i;
                else if (i - first_digit >= 6) bits |= 2;
            }
        } else {
            first_digit = -1;
        }
        if ((d || ch == ')' || ch == '+') &&
            (is_ascii_letter(p1) || p1 == 'O' || p1 == 'o' || p1 == 0x41e || p1 == 0x43e))
            bits |= 4;
        /* ch and p1 digits, p2 and p3 ASCII letters, and no ASCII letter or digit before p3 */
        if (d && i >= 3 && is_digit(p1) && is_ascii_letter(p2) && is_ascii_letter(p3) &&
            !(i >= 4 && is_ascii_alnum(PyUnicode_READ(s.kind, s.data, i - 4))))
            bits |= 8;
        alnum = is_ascii_alnum(ch) ? alnum + 1 : 0;
        if (alnum >= 25) bits |= 16;
        if (is_disguised(ch)) bits |= 32;
        switch (ch) {
        case '@': bits |= 512; break;
        case '.': bits |= 1024; break;
        case '/': bits |= 2048; break;
        case ':': case '-': case 0x2013: case 0x2014: bits |= 16384; break;
        default: break;
        }
        p3 = p2;
        p2 = p1;
        p1 = ch;
    }
    Text l = {PyUnicode_KIND(low_), PyUnicode_DATA(low_), PyUnicode_GET_LENGTH(low_)};
    for (Py_ssize_t i = 0; i < l.n; i++) {
        switch (PyUnicode_READ(l.kind, l.data, i)) {
        case '[': if (has_at(l, i, "[.]")) bits |= 64; break;
        case '(': if (has_at(l, i, "(.)")) bits |= 64; break;
        case '{': if (has_at(l, i, "{.}")) bits |= 64; break;
        case 'd': if (has_at(l, i, "dot]") || has_at(l, i, "dot)")) bits |= 64; break;
        case ' ': if (has_at(l, i, " dot ") || has_at(l, i, " . ")) bits |= 64; break;
        case 0x442: /* т */
            if (has_at(l, i, "точка")) bits |= 64;
            if (has_at(l, i, "тг") || has_at(l, i, "тел") || has_at(l, i, "тлг")) bits |= 256;
            break;
        case 't':
            if (has_at(l, i, "t.me") || has_at(l, i, "telegram.") || has_at(l, i, "tg://")) bits |= 128;
            if (has_at(l, i, "tg") || has_at(l, i, "tlg") || has_at(l, i, "telegram")) bits |= 256;
            break;
        case 'w': if (has_at(l, i, "wa.me") || has_at(l, i, "whatsapp.com")) bits |= 4096; break;
        case '.': if (has_at(l, i, ".onion")) bits |= 8192; break;
        default: break;
        }
    }
    return PyLong_FromLong(bits);
}

/* ---- explanation: each word's share of the score ------------------------------------------------------
 * explain_tokens(n_docs, char_doc, char_col, char_tok, word_doc, word_col, word_tok, tok_doc, char_norm,
 *                word_norm, w_sale, w_rec, word_offset, full, use_sale, top, min_abs) -> (keep, values):
 * for the posts marked in `full`, the contribution of every char and word n-gram occurrence toward the
 * post's likelier positive class (w_sale or w_rec at its column, divided by the post's norm), summed per
 * token (whitespace-delimited word) in occurrence order, char n-grams and word n-grams apart and then
 * added; then per post its `top` tokens by absolute contribution (ties in token order), those of at least
 * `min_abs`. The same numbers, in the same order, as the NumPy code in PostClassifier.explain (bincount,
 * lexsort), which stays as the reference and the fallback. keep: int64 token indices; values: float64. */

static int add_contributions(double *acc, Py_ssize_t n_t, const int32_t *doc, const int64_t *col, const int64_t *tok,
                             Py_ssize_t n, const double *norm, const double *ws, const double *wr, int64_t off,
                             int64_t width, const unsigned char *full, const unsigned char *use_sale, Py_ssize_t n_docs) {
    for (Py_ssize_t i = 0; i < n; i++) {
        const int32_t d = doc[i];
        if (d < 0 || d >= n_docs) goto bad;
        if (!full[d]) continue;
        const int64_t c = off + col[i], t = tok[i];
        if (col[i] < 0 || c >= width || t < 0 || t >= n_t) goto bad;
        acc[t] += (use_sale[d] ? ws[c] : wr[c]) / norm[d];
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "explain_tokens: an n-gram's post, column or token is out of range");
    return -1;
}

static PyObject *explain_tokens(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_ssize_t n_docs;
    Py_buffer cd, cc, ct, wd, wc, wt, td, cn, wn, ws, wr, fu, us;
    long long word_off;
    int top;
    double min_abs;
    if (!PyArg_ParseTuple(args, "ny*y*y*y*y*y*y*y*y*y*y*Ly*y*id", &n_docs, &cd, &cc, &ct, &wd, &wc, &wt, &td, &cn,
                          &wn, &ws, &wr, &word_off, &fu, &us, &top, &min_abs))
        return NULL;
    Py_buffer *bufs[] = {&cd, &cc, &ct, &wd, &wc, &wt, &td, &cn, &wn, &ws, &wr, &fu, &us};
    PyObject *keep = NULL, *vals = NULL, *out = NULL;
    double *acc_c = NULL, *acc_w = NULL, *keep_v = NULL;
    int64_t *keep_ix = NULL;
    Py_ssize_t *best = NULL;
    const Py_ssize_t n_c = cd.len / 4, n_w = wd.len / 4, n_t = td.len / 4;
    const int64_t width = ws.len / 8;
    if (n_docs < 0 || top < 0 || cc.len != n_c * 8 || ct.len != n_c * 8 || wc.len != n_w * 8 || wt.len != n_w * 8 ||
        cn.len != n_docs * 8 || wn.len != n_docs * 8 || wr.len != ws.len || fu.len != n_docs || us.len != n_docs ||
        word_off < 0) {
        PyErr_SetString(PyExc_ValueError, "explain_tokens: arrays of the wrong sizes");
        goto done;
    }
    const size_t n_t1 = (size_t)(n_t > 0 ? n_t : 1);
    acc_c = (double *)calloc(n_t1, sizeof(double));
    acc_w = (double *)calloc(n_t1, sizeof(double));
    keep_ix = (int64_t *)malloc(sizeof(int64_t) * n_t1);
    keep_v = (double *)malloc(sizeof(double) * n_t1);
    best = (Py_ssize_t *)malloc(sizeof(Py_ssize_t) * (size_t)(top > 0 ? top : 1));
    if (!acc_c || !acc_w || !keep_ix || !keep_v || !best) { PyErr_NoMemory(); goto done; }
    const unsigned char *full = (const unsigned char *)fu.buf, *use_sale = (const unsigned char *)us.buf;
    if (add_contributions(acc_c, n_t, (const int32_t *)cd.buf, (const int64_t *)cc.buf, (const int64_t *)ct.buf, n_c,
                          (const double *)cn.buf, (const double *)ws.buf, (const double *)wr.buf, 0, width, full,
                          use_sale, n_docs) ||
        add_contributions(acc_w, n_t, (const int32_t *)wd.buf, (const int64_t *)wc.buf, (const int64_t *)wt.buf, n_w,
                          (const double *)wn.buf, (const double *)ws.buf, (const double *)wr.buf, word_off, width,
                          full, use_sale, n_docs))
        goto done;
    double *sum = acc_c; /* each token's contribution: its char n-grams' sum, then its word n-grams' added */
    for (Py_ssize_t t = 0; t < n_t; t++) sum[t] += acc_w[t];
    const int32_t *tdoc = (const int32_t *)td.buf;
    Py_ssize_t n_keep = 0;
    for (Py_ssize_t i = 0; i < n_t;) {
        const int32_t d = tdoc[i];
        if (d < 0 || d >= n_docs || (i > 0 && d < tdoc[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "explain_tokens: tokens not in post order");
            goto done;
        }
        Py_ssize_t j = i;
        while (j < n_t && tdoc[j] == d) j++;
        if (full[d] && top > 0) {
            int m = 0; /* best[0..m): by absolute value, descending; ties in token order */
            for (Py_ssize_t t = i; t < j; t++) {
                const double a = fabs(sum[t]);
                if (m == top && !(a > fabs(sum[best[m - 1]]))) continue;
                int p = m < top ? m++ : m - 1;
                while (p > 0 && a > fabs(sum[best[p - 1]])) {
                    best[p] = best[p - 1];
                    p--;
                }
                best[p] = t;
            }
            for (int k = 0; k < m; k++) {
                const double v = sum[best[k]];
                if (fabs(v) >= min_abs) {
                    keep_ix[n_keep] = best[k];
                    keep_v[n_keep++] = v;
                }
            }
        }
        i = j;
    }
    keep = PyBytes_FromStringAndSize((const char *)keep_ix, (Py_ssize_t)sizeof(int64_t) * n_keep);
    vals = PyBytes_FromStringAndSize((const char *)keep_v, (Py_ssize_t)sizeof(double) * n_keep);
    if (keep && vals) out = PyTuple_Pack(2, keep, vals);
done:
    Py_XDECREF(keep);
    Py_XDECREF(vals);
    free(acc_c);
    free(acc_w);
    free(keep_ix);
    free(keep_v);
    free(best);
    for (int i = 0; i < 13; i++) PyBuffer_Release(bufs[i]);
    return out;
}

static PyMethodDef methods[] = {
    {"hash_ngrams", hash_ngrams, METH_VARARGS, "Hashed char_wb and word n-grams of a batch (see ngrams.py)."},
    {"trie_compile", trie_compile, METH_VARARGS, "Compile a lexicon trie from its flattened arrays."},
    {"trie_spans", trie_spans, METH_VARARGS, "Spans of the lexicon trie's matches in a text, left to right."},
    {"exotic_runs", exotic_runs, METH_VARARGS, "Runs of characters outside ASCII and Cyrillic (normalize.exotic)."},
    {"sep_pairs", sep_pairs, METH_VARARGS, "Letters split by repeated separators (normalize.separators)."},
    {"mixed_words", mixed_words, METH_VARARGS, "Words mixing digits or scripts (normalize.words)."},
    {"triple_runs", triple_runs, METH_VARARGS, "Runs of a character three times or more (normalize.squash)."},
    {"price_spans", price_spans, METH_VARARGS, "The bundled price regexes' matches (lexicon)."},
    {"lex_matches", lex_matches, METH_VARARGS, "Lexicon.match's matches: trie and bundled prices, merged."},
    {"linear_scores", linear_scores, METH_VARARGS, "X @ weights for the design matrix of classify.featurise."},
    {"indicator_hints", indicator_hints, METH_VARARGS, "Indicator extractors' first tests in one pass (indicators/base.py)."},
    {"explain_tokens", explain_tokens, METH_VARARGS, "Each word's share of the score, top words per post (classify.explain)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_textcore",
                                    "Compiled text kernels of narcotrace scan.", -1, methods};

PyMODINIT_FUNC PyInit__textcore(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "ABI_VERSION", ABI_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
