#include <config.h>

#include "migrator/checksum.h"

#include <stdint.h>
#include <string.h>
#ifdef __x86_64__
#include <nmmintrin.h>
#endif

#include "crc32c.h"
#include "ovs-thread.h"
#include "util.h"

#ifdef __x86_64__
/* The Castagnoli polynomial, bit-reflected as the crc32 instruction keeps
 * its register: bit 31 holds the coefficient of x^0. */
#define POLY 0x82f63b78

/* The bytes of each of the three runs in a round.  Joining the runs costs
 * two multiplications a round, which overlap: about 100 cycles, some 6% of
 * a round of this length.  What is left after the last round goes in one
 * run. */
#define RUN 4096

/* 'a' times 'b' modulo the polynomial, both bit-reflected. */
static uint32_t
multiply(uint32_t a, uint32_t b)
{
    uint32_t product = 0;

    for (uint32_t bit = UINT32_C(1) << 31; bit; bit >>= 1) {
        if (a & bit) {
            product ^= b;
        }
        b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
    }
    return product;
}

/* x to the power of 8 * 'n' (a CRC moved past 'n' bytes) modulo the
 * polynomial. */
static uint32_t
x_to_the_8n(size_t n)
{
    uint32_t power = UINT32_C(1) << 31;         /* x^0. */
    uint32_t square = UINT32_C(1) << (31 - 8);  /* x^8. */

    for (; n; n >>= 1) {
        if (n & 1) {
            power = multiply(power, square);
        }
        square = multiply(square, square);
    }
    return power;
}

static uint64_t
load64(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* Runs the crc32 instruction from register 'crc' over 'n' bytes of 'p'. */
static uint64_t __attribute__((target("sse4.2")))
run(uint64_t crc, const uint8_t *p, size_t n)
{
    for (; n >= 8; p += 8, n -= 8) {
        crc = _mm_crc32_u64(crc, load64(p));
    }
    for (; n; p++, n--) {
        crc = _mm_crc32_u8(crc, *p);
    }
    return crc;
}

static uint32_t __attribute__((target("sse4.2")))
crc32c_sse42(const uint8_t *p, size_t n)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    static uint32_t past_one, past_two;     /* Past one run, and two. */
    if (ovsthread_once_start(&once)) {
        past_one = x_to_the_8n(RUN);
        past_two = x_to_the_8n(2 * RUN);
        ovsthread_once_done(&once);
    }

    uint64_t crc = UINT32_MAX;
    for (; n >= 3 * RUN; p += 3 * RUN, n -= 3 * RUN) {
        uint64_t a = crc, b = 0, c = 0;
        for (size_t i = 0; i < RUN; i += 8) {
            a = _mm_crc32_u64(a, load64(p + i));
            b = _mm_crc32_u64(b, load64(p + RUN + i));
            c = _mm_crc32_u64(c, load64(p + 2 * RUN + i));
        }
        crc = multiply(a, past_two) ^ multiply(b, past_one) ^ c;
    }
    return ~run(crc, p, n);
}
#endif

ovs_be32
migr_checksum(const uint8_t *data, size_t n)
{
#ifdef __x86_64__
    if (__builtin_cpu_supports("sse4.2")) {
        /* x86 is little-endian, where crc32c() returns its value as is. */
        return (OVS_FORCE ovs_be32) crc32c_sse42(data, n);
    }
#endif
    return crc32c(data, n);
}
