/* Venue categories of the 2021 venue registration letters, with stable numeric codes.
 *
 * The code is what goes on the wire and into the store; the slug is what the CLI accepts
 * and prints. Codes are never renumbered or reused: a new category takes the next free
 * code, and one that is no longer wanted keeps its code. "other" (25) is for venues that
 * fit nowhere else. */
#ifndef TV_NODE_CATEGORY_H
#define TV_NODE_CATEGORY_H

#include <stddef.h>
#include <stdint.h>

/* Wire codes. Never change a value. */
enum tv_category_code {
    TV_CATEGORY_OFFICE = 1,
    TV_CATEGORY_INDUSTRIAL = 2,
    TV_CATEGORY_BUSINESS = 3,
    TV_CATEGORY_RESTAURANT = 4,
    TV_CATEGORY_CAFE = 5,
    TV_CATEGORY_BAR = 6,
    TV_CATEGORY_CLUB = 7,
    TV_CATEGORY_KARAOKE = 8,
    TV_CATEGORY_MASSAGE_BEAUTY = 9,
    TV_CATEGORY_GYM = 10,
    TV_CATEGORY_MEETING = 11,
    TV_CATEGORY_HOSPITAL = 12,
    TV_CATEGORY_APARTMENT = 13,
    TV_CATEGORY_SCHOOL = 14,
    TV_CATEGORY_STATION_PORT = 15,
    TV_CATEGORY_PUBLIC_TRANSPORT = 16,
    TV_CATEGORY_MALL_SUPERMARKET = 17,
    TV_CATEGORY_MARKET = 18,
    TV_CATEGORY_ESSENTIAL_SHOP = 19,
    TV_CATEGORY_FUNERAL = 20,
    TV_CATEGORY_WEDDING = 21,
    TV_CATEGORY_TOURISM = 22,
    TV_CATEGORY_RELIGIOUS = 23,
    TV_CATEGORY_HOTEL = 24,
    TV_CATEGORY_OTHER = 25,
};

#define TV_CATEGORY_COUNT 25    /* categories defined; codes run 1..TV_CATEGORY_COUNT */
#define TV_CATEGORY_SLUG_MAX 16 /* bytes of the longest slug, without its NUL */

typedef struct tv_category {
    uint8_t code;        /* enum tv_category_code */
    uint16_t stay_min;   /* default stay: closes a visit that has no check-out */
    const char *slug;    /* lowercase ASCII, [a-z_], for the command line */
    const char *name_vi; /* Vietnamese name, UTF-8, for people */
    const char *name_en; /* English name */
} tv_category;

/* Returns the category with this code, or NULL for a code this build does not know
 * (0, or one added by a newer version: the caller shows it as a number). The result
 * points into a static table and is valid for the life of the program. */
const tv_category *tv_category_by_code(unsigned code);

/* Returns the category whose slug matches s, ignoring ASCII case and treating '-' as '_'
 * ("Massage-Beauty" finds massage_beauty), or NULL when none does. Static result. */
const tv_category *tv_category_by_slug(const char *s);

/* Returns the category s names: its slug (as tv_category_by_slug), its Vietnamese name or
 * one of the comma-separated parts of it ("Nhà hàng" and "nha hang" find restaurant,
 * "Chợ" market: compared by tv_text_fold, so case and marks do not matter), or its
 * English name, ignoring case. NULL when none does. Static result. */
const tv_category *tv_category_find(const char *s);

/* Returns the i-th category in code order for listings (i < TV_CATEGORY_COUNT), or NULL
 * past the end, so `for (i = 0; (c = tv_category_at(i)); i++)` visits all of them. */
const tv_category *tv_category_at(size_t i);

#endif
