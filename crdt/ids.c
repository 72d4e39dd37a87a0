/* Hex and event-id formatting. */
#include "crdt/ids.h"
#include "crdt/error.h"

#include <inttypes.h>
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
