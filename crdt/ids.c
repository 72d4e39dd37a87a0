/* Hex and event-id formatting. */
#include "crdt/ids.h"
#include "crdt/error.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void tv_hex_encode(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int tv_hex_decode(uint8_t *out, size_t len, const char *hex)
{
    if (strlen(hex) != 2 * len) return TV_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return TV_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return TV_OK;
}

void tv_event_id_format(char *out, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t seq)
{
    tv_hex_encode(out, origin, TV_EVENT_ID_ORIGIN_HEX / 2);
    snprintf(out + TV_EVENT_ID_ORIGIN_HEX, TV_EVENT_ID_STR_MAX - TV_EVENT_ID_ORIGIN_HEX,
             "-%" PRIu64, seq);
}

void tv_venue_id_derive(uint8_t out[TV_VENUE_ID_BYTES], const uint8_t registrar[TV_NODE_ID_BYTES],
                        const uint8_t nonce[TV_VENUE_NONCE_BYTES])
{
    static const char ctx[] = "truyvet/venue-id/v1";
    uint8_t h[TV_HASH_BYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof ctx - 1);
    crypto_generichash_update(&st, registrar, TV_NODE_ID_BYTES);
    crypto_generichash_update(&st, nonce, TV_VENUE_NONCE_BYTES);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out, h, TV_VENUE_ID_BYTES);
}
