/* A small PNG reader for the plot test's screenshot (8-bit RGB or RGBA, not interlaced, as
 * Chromium writes them), on zlib. Returns RGBA pixels (malloc) or NULL. */
#ifndef TESTS_PNG_H
#define TESTS_PNG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static inline uint32_t png_be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static inline int png_paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static inline unsigned char *png_read_rgba(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    if (len < 33 || memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return free(b), NULL;
    size_t off = 8, zlen = 0;
    unsigned char *z = malloc((size_t)len);
    int depth = 0, ctype = 0, interlace = 0;
    *w = *h = 0;
    while (off + 12 <= (size_t)len) {
        uint32_t n = png_be32(b + off);
        const unsigned char *type = b + off + 4, *data = b + off + 8;
        if (off + 12 + n > (size_t)len) break;
        if (!memcmp(type, "IHDR", 4)) {
            *w = (int)png_be32(data);
            *h = (int)png_be32(data + 4);
            depth = data[8];
            ctype = data[9];
            interlace = data[12];
        } else if (!memcmp(type, "IDAT", 4)) {
            memcpy(z + zlen, data, n);
            zlen += n;
        } else if (!memcmp(type, "IEND", 4)) {
            break;
        }
        off += 12 + n;
    }
    free(b);
    int bpp = ctype == 6 ? 4 : ctype == 2 ? 3 : 0;
    if (depth != 8 || !bpp || interlace || *w <= 0 || *h <= 0) return free(z), NULL;
    size_t stride = (size_t)*w * bpp, rawlen = (stride + 1) * (size_t)*h;
    unsigned char *raw = malloc(rawlen), *out = malloc((size_t)*w * *h * 4);
    uLongf got = rawlen;
    if (uncompress(raw, &got, z, zlen) != Z_OK || got != rawlen) {
        free(z), free(raw), free(out);
        return NULL;
    }
    free(z);
    unsigned char *prev = calloc(stride, 1), *cur = malloc(stride);
    for (int y = 0; y < *h; y++) {
        const unsigned char *row = raw + (size_t)y * (stride + 1);
        int ft = row[0];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)bpp ? cur[x - bpp] : 0, up = prev[x], c = x >= (size_t)bpp ? prev[x - bpp] : 0;
            int v = row[1 + x];
            switch (ft) {
            case 1: v += a; break;
            case 2: v += up; break;
            case 3: v += (a + up) / 2; break;
            case 4: v += png_paeth(a, up, c); break;
            }
            cur[x] = (unsigned char)v;
        }
        for (int x = 0; x < *w; x++) {
            unsigned char *o = out + ((size_t)y * *w + x) * 4;
            memcpy(o, cur + (size_t)x * bpp, 3);
            o[3] = bpp == 4 ? cur[(size_t)x * bpp + 3] : 255;
        }
        memcpy(prev, cur, stride);
    }
    free(prev), free(cur), free(raw);
    return out;
}

/* Pixels of rgba within tol of colour 0xRRGGBB, inside the rectangle [x0,x1) x [y0,y1). */
static inline long png_count(const unsigned char *px, int w, int h, unsigned colour, int tol, int x0, int y0, int x1,
                             int y1)
{
    long n = 0;
    int r = colour >> 16 & 255, g = colour >> 8 & 255, bl = colour & 255;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < w; x++) {
            const unsigned char *p = px + ((size_t)y * w + x) * 4;
            if (abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - bl) <= tol) n++;
        }
    return n;
}

#endif
