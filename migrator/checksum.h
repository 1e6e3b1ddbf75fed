/* The checksum of each block of a migration stream (migrator/frame.h):
 * CRC32C, the same value as crc32c() of lib/crc32c.h, at the speed of the
 * CPU's crc32 instruction where it has one.
 *
 * That instruction takes three cycles to give its result but can start
 * one every cycle, so a block is checked in three interleaved runs whose
 * CRCs are then joined: a CRC is linear, so the CRC of two pieces is the
 * first piece's moved past the second (multiplied by x to the power of
 * the second's length in bits, modulo the polynomial), plus the second's.
 * Without the instruction, lib/crc32c.c's table serves, at a few cycles a
 * byte. */

#ifndef MIGRATOR_CHECKSUM_H
#define MIGRATOR_CHECKSUM_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"

ovs_be32 migr_checksum(const uint8_t *, size_t);

#endif /* migrator/checksum.h */
