/* The scale searches of the Q4_K and Q6_K quantisers, compiled (albor_gates/formats/_native.py).
 *
 * Each function computes exactly what its numpy twin in gguf_quants.py computes (_make_qkx2,
 * _make_qx), operation by operation in float32, so the bytes are identical: numpy's sum of a
 * contiguous 32-float row is its pairwise sum (8 running lanes, then a fixed tree), its sum over
 * the 16 rows of a column is sequential from the first element, np.rint rounds half to even
 * (rintf in the default rounding mode) and np.clip is max-then-min with NaN passing through.
 * Built with -ffp-contract=off and without -ffast-math: no fused multiply-add, no reassociation,
 * so every lane of the vectorised loops rounds as numpy does.
 *
 * Layout: LANES sub-blocks are searched together, one per vector lane (x[element][lane]), so
 * the per-sub-block sums are vertical adds in numpy's order and the per-sub-block decisions are
 * lane-wise selects: every loop below is a plain loop over lanes that the compiler vectorises. */
#include <math.h>
#include <stdint.h>

#define LANES 32  /* measured: 8 → 117, 16 → 208, 32 → 336, 64 → 284 MB/s (Q4_K, AVX-512 CPU) */

/* numpy's pairwise sum of 32 values per lane: 8 running sums, then a fixed tree. */
static inline void sum32(float t[32][LANES], float out[LANES]) {
    float r[8][LANES];
    for (int j = 0; j < 8; j++)
        for (int l = 0; l < LANES; l++) r[j][l] = t[j][l];
    for (int i = 8; i < 32; i += 8)
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < LANES; l++) r[j][l] += t[i + j][l];
    for (int l = 0; l < LANES; l++)
        out[l] = ((r[0][l] + r[1][l]) + (r[2][l] + r[3][l])) +
                 ((r[4][l] + r[5][l]) + (r[6][l] + r[7][l]));
}

/* numpy's sum over the 16 rows of a column: sequential from the first element. */
static inline void sum16(float t[16][LANES], float out[LANES]) {
    for (int l = 0; l < LANES; l++) out[l] = t[0][l];
    for (int i = 1; i < 16; i++)
        for (int l = 0; l < LANES; l++) out[l] += t[i][l];
}

/* np.clip: numpy's _NPY_MAX then _NPY_MIN (a NaN stays NaN; -0.0 against 0.0 gives 0.0). */
static inline float clip(float v, float lo, float hi) {
    float m = isnan(v) ? v : (v > lo ? v : lo);
    return isnan(m) ? m : (m < hi ? m : hi);
}

/* make_qkx2_quants over n sub-blocks of 32: scale, the_min (the positive offset), codes. */
void q4_k_search(const float *xs, int64_t n, float *scale_out, float *min_out,
                 uint8_t *codes_out) {
    const float nmax = 15.0f;
    for (int64_t b0 = 0; b0 < n; b0 += LANES) {
        int m = n - b0 < LANES ? (int)(n - b0) : LANES;
        float x[32][LANES], w[32][LANES], t[32][LANES], codes[32][LANES], aux[32][LANES];
        float wl[32][LANES];
        float av_x[LANES], mn[LANES], mx[LANES], sum_w[LANES], sum_x[LANES], iscale[LANES];
        float scale[LANES], best[LANES], sum_l[LANES], sum_l2[LANES], sum_xl[LANES];
        float this_scale[LANES], this_min[LANES], cur[LANES];
        int flat[LANES], better[LANES];
        for (int l = 0; l < LANES; l++)  /* lanes past the end hold zeros, never written back */
            for (int i = 0; i < 32; i++) x[i][l] = l < m ? xs[32 * (b0 + l) + i] : 0.0f;
        for (int i = 0; i < 32; i++)
            for (int l = 0; l < LANES; l++) t[i][l] = x[i][l] * x[i][l];
        sum32(t, av_x);
        for (int l = 0; l < LANES; l++) {
            av_x[l] = sqrtf(av_x[l] / 32.0f);
            mn[l] = x[0][l];
            mx[l] = x[0][l];
        }
        for (int i = 0; i < 32; i++)
            for (int l = 0; l < LANES; l++) {
                w[i][l] = av_x[l] + fabsf(x[i][l]);
                mn[l] = x[i][l] < mn[l] ? x[i][l] : mn[l];
                mx[l] = x[i][l] > mx[l] ? x[i][l] : mx[l];
            }
        for (int l = 0; l < LANES; l++) {
            mn[l] = mn[l] < 0.0f ? mn[l] : 0.0f;
            flat[l] = mx[l] == mn[l];
        }
        sum32(w, sum_w);
        for (int i = 0; i < 32; i++)
            for (int l = 0; l < LANES; l++) t[i][l] = w[i][l] * x[i][l];
        sum32(t, sum_x);
        for (int l = 0; l < LANES; l++) iscale[l] = nmax / (flat[l] ? 1.0f : mx[l] - mn[l]);
        for (int i = 0; i < 32; i++)
            for (int l = 0; l < LANES; l++)
                codes[i][l] = clip(rintf(iscale[l] * (x[i][l] - mn[l])), 0.0f, nmax);
        for (int l = 0; l < LANES; l++) scale[l] = 1.0f / iscale[l];
        for (int i = 0; i < 32; i++)
            for (int l = 0; l < LANES; l++) {
                float d = scale[l] * codes[i][l] + mn[l] - x[i][l];
                t[i][l] = w[i][l] * d * d;
            }
        sum32(t, best);
        for (int step = 0; step < 21; step++) {
            for (int l = 0; l < LANES; l++) {
                float span = mx[l] - mn[l];
                iscale[l] = (-1.0f + 0.1f * (float)step + nmax) / (span == 0.0f ? 1.0f : span);
            }
            for (int i = 0; i < 32; i++)
                for (int l = 0; l < LANES; l++) {
                    aux[i][l] = clip(rintf(iscale[l] * (x[i][l] - mn[l])), 0.0f, nmax);
                    wl[i][l] = w[i][l] * aux[i][l];
                }
            sum32(wl, sum_l);
            for (int i = 0; i < 32; i++)
                for (int l = 0; l < LANES; l++) t[i][l] = wl[i][l] * aux[i][l];
            sum32(t, sum_l2);
            for (int i = 0; i < 32; i++)
                for (int l = 0; l < LANES; l++) t[i][l] = wl[i][l] * x[i][l];
            sum32(t, sum_xl);
            for (int l = 0; l < LANES; l++) {
                float det = sum_w[l] * sum_l2[l] - sum_l[l] * sum_l[l];
                better[l] = det > 0.0f;  /* "ok"; the error comparison is added below */
                det = better[l] ? det : 1.0f;
                float sc = (sum_w[l] * sum_xl[l] - sum_x[l] * sum_l[l]) / det;
                float mi = (sum_l2[l] * sum_x[l] - sum_l[l] * sum_xl[l]) / det;
                int positive = mi > 0.0f;
                this_min[l] = positive ? 0.0f : mi;
                this_scale[l] = positive ? sum_xl[l] / (sum_l2[l] > 0.0f ? sum_l2[l] : 1.0f) : sc;
            }
            for (int i = 0; i < 32; i++)
                for (int l = 0; l < LANES; l++) {
                    float d = this_scale[l] * aux[i][l] + this_min[l] - x[i][l];
                    t[i][l] = w[i][l] * d * d;
                }
            sum32(t, cur);
            for (int l = 0; l < LANES; l++) {
                better[l] = better[l] && cur[l] < best[l];
                best[l] = better[l] ? cur[l] : best[l];
                scale[l] = better[l] ? this_scale[l] : scale[l];
                mn[l] = better[l] ? this_min[l] : mn[l];
            }
            for (int i = 0; i < 32; i++)
                for (int l = 0; l < LANES; l++) codes[i][l] = better[l] ? aux[i][l] : codes[i][l];
        }
        for (int l = 0; l < m; l++) {
            scale_out[b0 + l] = flat[l] ? 0.0f : scale[l];
            min_out[b0 + l] = -mn[l];
            for (int i = 0; i < 32; i++)
                codes_out[32 * (b0 + l) + i] = flat[l] ? 0 : (uint8_t)codes[i][l];
        }
    }
}

/* make_qx_quants(16, 32, x, L, 1, NULL) over n sub-blocks of 16: scale, codes l + 32. */
void q6_k_search(const float *xs, int64_t n, float eps, float *scale_out, uint8_t *codes_out) {
    const float nmax = 32.0f;
    for (int64_t b0 = 0; b0 < n; b0 += LANES) {
        int m = n - b0 < LANES ? (int)(n - b0) : LANES;
        float x[16][LANES], w[16][LANES], wx[16][LANES], t[16][LANES], lv[16][LANES];
        float peak[LANES], amax[LANES], best_iscale[LANES], iscale[LANES], sumlx[LANES];
        float suml2[LANES], scale[LANES], best[LANES];
        int zero[LANES];
        for (int l = 0; l < LANES; l++)
            for (int i = 0; i < 16; i++) x[i][l] = l < m ? xs[16 * (b0 + l) + i] : 0.0f;
        for (int l = 0; l < LANES; l++) {
            peak[l] = x[0][l];
            amax[l] = fabsf(x[0][l]);
        }
        for (int i = 1; i < 16; i++)
            for (int l = 0; l < LANES; l++) {
                /* the first element of largest magnitude, as argmax picks it */
                int more = fabsf(x[i][l]) > amax[l];
                amax[l] = more ? fabsf(x[i][l]) : amax[l];
                peak[l] = more ? x[i][l] : peak[l];
            }
        for (int l = 0; l < LANES; l++) {
            zero[l] = fabsf(peak[l]) < eps;
            peak[l] = zero[l] ? 1.0f : peak[l];
            best_iscale[l] = -nmax / peak[l];
        }
        for (int i = 0; i < 16; i++)
            for (int l = 0; l < LANES; l++) {
                w[i][l] = x[i][l] * x[i][l];
                wx[i][l] = w[i][l] * x[i][l];
            }
        for (int step = -10; step <= 9; step++) {
            if (step == 0) continue;
            /* step -10 is the first fit, at best_iscale; then k = -9 … -1, 1 … 9 */
            for (int l = 0; l < LANES; l++)
                iscale[l] = step == -10 ? best_iscale[l] : -(nmax + 0.1f * (float)step) / peak[l];
            for (int i = 0; i < 16; i++)
                for (int l = 0; l < LANES; l++)
                    lv[i][l] = clip(rintf(iscale[l] * x[i][l]), -nmax, nmax - 1.0f);
            for (int i = 0; i < 16; i++)
                for (int l = 0; l < LANES; l++) t[i][l] = wx[i][l] * lv[i][l];
            sum16(t, sumlx);
            for (int i = 0; i < 16; i++)
                for (int l = 0; l < LANES; l++) t[i][l] = w[i][l] * lv[i][l] * lv[i][l];
            sum16(t, suml2);
            for (int l = 0; l < LANES; l++) {
                if (step == -10) {
                    scale[l] = suml2[l] != 0.0f ? sumlx[l] / suml2[l] : 0.0f;
                    best[l] = scale[l] * sumlx[l];
                    continue;
                }
                int better = suml2[l] > 0.0f && sumlx[l] * sumlx[l] > best[l] * suml2[l];
                float this_scale = sumlx[l] / (better ? suml2[l] : 1.0f);
                scale[l] = better ? this_scale : scale[l];
                best[l] = better ? this_scale * sumlx[l] : best[l];
                best_iscale[l] = better ? iscale[l] : best_iscale[l];
            }
        }
        for (int l = 0; l < m; l++) {
            for (int i = 0; i < 16; i++) {
                float c = clip(rintf(best_iscale[l] * x[i][l]), -nmax, nmax - 1.0f) + nmax;
                codes_out[16 * (b0 + l) + i] = zero[l] ? 0 : (uint8_t)c;
            }
            scale_out[b0 + l] = zero[l] ? 0.0f : scale[l];
        }
    }
}

/* The codes against the rounded scales, per sub-block of k values (Q4_K: k 32, offset dm,
 * codes 0…15; Q6_K: k 16, no offset, codes -32…31 stored + 32): where the decoded scale d is 0
 * the search's codes are kept, as the numpy path's np.where does. */
void requant(const float *xs, int64_t n, int k, const float *d, const float *dm, float lo,
             float hi, float bias, const uint8_t *codes, uint8_t *out) {
    for (int64_t b = 0; b < n; b++) {
        const float *x = xs + k * b;
        float off = dm ? dm[b] : 0.0f;
        if (d[b] == 0.0f) {
            for (int i = 0; i < k; i++) out[k * b + i] = codes[k * b + i];
            continue;
        }
        for (int i = 0; i < k; i++) {
            float v = dm ? x[i] + off : x[i];
            out[k * b + i] = (uint8_t)(clip(rintf(v / d[b]), lo, hi) + bias);
        }
    }
}
