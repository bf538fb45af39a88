/* One fused pass over a range of a tensor: every statistic of albor_gates/model/scan.py at once
 * (albor_gates/model/native.py compiles it; scan.py's torch path is the fallback and oracle).
 *
 * The range is read in blocks of BLK elements, converted to float32 into an L1-resident buffer
 * while one bit test per element finds NaN/Inf. An all-finite block is then reduced in W float32
 * lanes (min, max, zero count, shifted sum, sum of squares, lag-1 products), which the compiler
 * vectorises without reassociating anything, and the lane partials are added into fp64 once per
 * block (DESIGN.md: fp32 sums drift over a whole tensor; per-block partials in fp64 do not). A
 * block holding a NaN or Inf takes a scalar fp64 path over its finite values, as the torch
 * path's masked chunk does; the lag-1 statistic is void for such a tensor anyway.
 *
 * out[7]: sum, sum of squares, lag-1 pair products, sum of column 0, sum of the last column
 * (all of y = x - shift), min, max (of x). counts[4]: NaN, +Inf, -Inf, zeros. The caller adds
 * them up across ranges. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define BLK 4096
#define W 16

enum { F32 = 0, BF16 = 1, F16 = 2 };

/* GCC / clang vector extensions: W float32 lanes held in registers across the block's loop (a
 * lane array in memory would serialise every iteration on a store and a reload). */
typedef float vf __attribute__((vector_size(4 * W)));
typedef int32_t vi __attribute__((vector_size(4 * W)));

static inline vf loadv(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline vf splat(float x) {
    vf v;
    for (int l = 0; l < W; l++) v[l] = x;
    return v;
}

#if defined(__AVX512F__) && W == 16
#include <immintrin.h>
static inline vf vmin(vf a, vf b) { return (vf)_mm512_min_ps((__m512)a, (__m512)b); }
static inline vf vmax(vf a, vf b) { return (vf)_mm512_max_ps((__m512)a, (__m512)b); }
#else
static inline vf vmin(vf a, vf b) {
    vi m = a < b;
    return (vf)((m & (vi)a) | (~m & (vi)b));
}
static inline vf vmax(vf a, vf b) {
    vi m = a > b;
    return (vf)((m & (vi)a) | (~m & (vi)b));
}
#endif

int scan_has_f16(void) {
#ifdef __FLT16_MAX__
    return 1;
#else
    return 0;
#endif
}

static inline int to_float(const uint8_t *src, int64_t n, int dt, float *y) {
    int bad = 0;
    if (dt == F32) {
        for (int64_t i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, src + 4 * i, 4);
            bad |= (b & 0x7f800000u) == 0x7f800000u;
            memcpy(&y[i], &b, 4);
        }
    } else if (dt == BF16) {
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            bad |= (h & 0x7f80u) == 0x7f80u;
            uint32_t b = (uint32_t)h << 16;
            memcpy(&y[i], &b, 4);
        }
    } else {
#ifdef __FLT16_MAX__
        for (int64_t i = 0; i < n; i++) {
            _Float16 h;
            uint16_t bits;
            memcpy(&bits, src + 2 * i, 2);
            bad |= (bits & 0x7c00u) == 0x7c00u;
            memcpy(&h, &bits, 2);
            y[i] = (float)h;
        }
#endif
    }
    return bad;
}

/* The exact fp64 path of a block holding a NaN or Inf (or whose fp32 sums overflowed): adds the
 * finite values; returns 1 if the block really holds a non-finite value. */
static int scalar_block(const float *y, int64_t n, double shift, double *out, int64_t *counts) {
    int64_t before = counts[0] + counts[1] + counts[2];
    for (int64_t i = 0; i < n; i++) {
        float v = y[i];
        if (isnan(v)) {
            counts[0]++;
        } else if (isinf(v)) {
            counts[v > 0 ? 1 : 2]++;
        } else {
            double d = (double)v - shift;
            counts[3] += v == 0.0f;
            out[0] += d;
            out[1] += d * d;
            out[5] = v < out[5] ? v : out[5];
            out[6] = v > out[6] ? v : out[6];
        }
    }
    return counts[0] + counts[1] + counts[2] > before;
}

typedef uint16_t vh __attribute__((vector_size(2 * W)));

/* (a[1], …, a[W-1], b[0]): a vector's right neighbours across two consecutive vectors. */
#if defined(__clang__)
#define SHIFT_IN(a, b) \
    __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
#else
#define SHIFT_IN(a, b) \
    __builtin_shuffle(a, b, (vi){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
#endif

/* W values at p as float32 (BF16 widened in registers; F16 was converted into a buffer). */
static inline __attribute__((always_inline)) vf loadx(const uint8_t *p, int dt) {
    if (dt == BF16) {
#if defined(__AVX512F__) && W == 16
        /* One widening load (vpmovzxwd zmm, m256) and one shift: GCC 12 splits the generic
         * __builtin_convertvector below into two 256-bit halves plus an insert (six vector
         * instructions instead of two), which made bf16 compute-bound (issue 14). */
        __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)p);
        return (vf)_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
#else
        vh h;
        memcpy(&h, p, sizeof h);
        return (vf)(__builtin_convertvector(h, vi) << 16);
#endif
    }
    return loadv((const float *)(const void *)p);
}

static inline __attribute__((always_inline)) float load1(const uint8_t *p, int dt) {
    if (dt == BF16) {
        uint16_t h;
        memcpy(&h, p, 2);
        uint32_t b = (uint32_t)h << 16;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    float f;
    memcpy(&f, p, 4);
    return f;
}

/* Reduce an all-finite block of n values (dt F32 or BF16) into out/counts; 0 if it holds a NaN
 * or Inf (nothing is added then). The lag-1 products cover the pairs (k, k+1) inside the block;
 * the caller adds the pair across the block's start and removes those across row ends. */
static inline __attribute__((always_inline)) int fast_block(const uint8_t *src, int64_t n, int dt,
                                                            float shift, int pairs, double *out,
                                                            int64_t *counts) {
    const int es = dt == BF16 ? 2 : 4;
    vf mn = splat(INFINITY), mx = splat(-INFINITY), s = splat(0.0f), ss = splat(0.0f);
    vf sh = splat(shift), pr = splat(0.0f);
    vi z = {0};
    int64_t zc = 0; /* zeros counted from a compare mask (AVX-512): scalar ports, not vector */
#if defined(__AVX512F__) && W == 16
#define ZEROS(v) zc += __builtin_popcount(_mm512_cmpeq_ps_mask((__m512)(v), _mm512_setzero_ps()));
#else
#define ZEROS(v) z -= (v) == 0.0f; /* true is -1 */
#endif
    int64_t body = n - n % W;
    vf dprev = splat(0.0f); /* the previous vector's shifted values, for the lag-1 products */
#define STATS_STEP                     \
    vf v = loadx(src + i * es, dt);    \
    mn = vmin(v, mn);                  \
    mx = vmax(v, mx);                  \
    ZEROS(v)                           \
    vf d = v - sh;                     \
    s += d;                            \
    ss += d * d;
    if (pairs) {
        for (int64_t i = 0; i < body; i += W) {
            STATS_STEP
            /* lanes 1 … W-1 of dprev and lane 0 of d: the right partners of dprev's lanes */
            if (i) pr += dprev * SHIFT_IN(dprev, d);
            dprev = d;
        }
    } else {
        for (int64_t i = 0; i < body; i += W) {
            STATS_STEP
        }
    }
#undef STATS_STEP
#undef ZEROS
    float smin = INFINITY, smax = -INFINITY, stail = 0.0f, sstail = 0.0f, ptail = 0.0f;
    int64_t ztail = 0;
    int badtail = 0;
    if (pairs && body) { /* the last full vector's pairs, the last one reaching into the tail */
        for (int l = 0; l < W - 1; l++) ptail += dprev[l] * dprev[l + 1];
        if (body < n) ptail += dprev[W - 1] * (load1(src + body * es, dt) - shift);
    }
    for (int64_t i = body; i < n; i++) {
        float v = load1(src + i * es, dt);
        badtail |= !isfinite(v);
        smin = v < smin ? v : smin;
        smax = v > smax ? v : smax;
        ztail += v == 0.0f;
        float d = v - shift;
        stail += d;
        sstail += d * d;
        if (pairs && i + 1 < n) ptail += d * (load1(src + (i + 1) * es, dt) - shift);
    }
    /* A NaN or Inf makes the lane's sum or sum of squares non-finite (so may an overflow:
     * that block then just takes the exact scalar path). */
    for (int l = 0; l < W; l++) badtail |= !isfinite(s[l]) || !isfinite(ss[l]);
    if (badtail) return 0;
    double ds = stail, dss = sstail, dpr = ptail;
    int64_t zeros = ztail + zc;
    out[5] = smin < out[5] ? smin : out[5];
    out[6] = smax > out[6] ? smax : out[6];
    for (int l = 0; l < W; l++) {
        ds += s[l];
        dss += ss[l];
        dpr += pr[l];
        zeros += z[l];
        out[5] = mn[l] < out[5] ? mn[l] : out[5];
        out[6] = mx[l] > out[6] ? mx[l] : out[6];
    }
    out[0] += ds;
    out[1] += dss;
    out[2] += dpr;
    counts[3] += zeros;
    return 1;
}

void scan_range(const uint8_t *base, int64_t start, int64_t stop, int dt, int64_t cols,
                float shift, double *out, int64_t *counts) {
    const int esize = dt == F32 ? 4 : 2;
    float y[BLK];
    float prev = 0.0f;
    int have_prev = 0;
    if (cols && start > 0 && start % cols) { /* the pair that straddles the range's start */
        float p;
        if (!to_float(base + (start - 1) * esize, 1, dt, &p)) {
            prev = p - shift;
            have_prev = 1;
        }
    }
    for (int64_t b = start; b < stop; b += BLK) {
        int64_t n = stop - b < BLK ? stop - b : BLK;
        const uint8_t *src = base + b * esize;
        int ok;
        if (dt == BF16) {
            ok = fast_block(src, n, BF16, shift, cols != 0, out, counts);
        } else if (dt == F32) {
            ok = fast_block(src, n, F32, shift, cols != 0, out, counts);
        } else {
            ok = !to_float(src, n, dt, y) &&
                 fast_block((const uint8_t *)y, n, F32, shift, cols != 0, out, counts);
        }
        if (!ok) {
            to_float(src, n, dt, y);
            if (scalar_block(y, n, (double)shift, out, counts)) {
                have_prev = 0; /* the lag-1 statistic is void for this tensor now */
                continue;
            }
        }
        if (cols) {
            const int es = dt == BF16 && ok ? 2 : 4;
            const uint8_t *vals = dt == F16 || !ok ? (const uint8_t *)y : src;
            const int vdt = dt == BF16 && ok ? BF16 : F32;
#define Y(k) (load1(vals + (k) * es, vdt) - shift)
            double pairs = 0.0;
            if (!ok) /* all finite after all: the in-block pairs fast_block would have added */
                for (int64_t k = 0; k + 1 < n; k++) pairs += (double)(Y(k) * Y(k + 1));
            if (have_prev && b % cols) pairs += (double)(prev * Y(0));
            /* pairs that cross a row boundary inside the block were added: remove them */
            for (int64_t q = b + (cols - b % cols) % cols; q < b + n; q += cols) {
                if (q > b) pairs -= (double)(Y(q - b - 1) * Y(q - b));
                out[3] += Y(q - b);
            }
            for (int64_t q = b + (cols - 1 - b % cols) % cols; q < b + n; q += cols)
                out[4] += Y(q - b);
#undef Y
            out[2] += pairs;
            prev = load1(vals + (n - 1) * es, vdt) - shift;
            have_prev = 1;
        }
    }
}
