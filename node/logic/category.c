/* The table of venue categories and its lookups (see category.h). */
#include "node/logic/category.h"

#include "node/format/text.h"

#include <assert.h>
#include <string.h>

/* In code order, so that table[code - 1] is the category with that code.
 *
 * Default stays are what a typical visitor spends there. They close a visit whose
 * check-out was never scanned, so they lean long: an overlap counted that did not happen
 * costs a phone call, one missed may cost an outbreak. */
static const tv_category table[TV_CATEGORY_COUNT] = {
    /* a working day, lunch included */
    {TV_CATEGORY_OFFICE, 540, "office", "Cơ quan, công sở", "Offices"},
    /* an 8-hour shift, its meal break and the usual overtime */
    {TV_CATEGORY_INDUSTRIAL, 600, "industrial", "Khu công nghiệp, nhà máy",
     "Industrial parks and factories"},
    /* staff stay the day, customers briefly: half a day between them */
    {TV_CATEGORY_BUSINESS, 240, "business", "Cơ sở sản xuất, kinh doanh",
     "Production and business sites"},
    {TV_CATEGORY_RESTAURANT, 90, "restaurant", "Nhà hàng, quán ăn", "Restaurants and eateries"},
    {TV_CATEGORY_CAFE, 60, "cafe", "Quán cà phê", "Cafés"},
    {TV_CATEGORY_BAR, 120, "bar", "Quán bar", "Bars"},
    {TV_CATEGORY_CLUB, 180, "club", "Câu lạc bộ, vũ trường", "Clubs"},
    /* rooms are booked by the hour, usually two or three */
    {TV_CATEGORY_KARAOKE, 150, "karaoke", "Karaoke", "Karaoke"},
    {TV_CATEGORY_MASSAGE_BEAUTY, 90, "massage_beauty", "Massage, làm đẹp", "Massage and beauty"},
    {TV_CATEGORY_GYM, 90, "gym", "Phòng tập thể dục, gym", "Gyms"},
    /* half a day, as most meetings and conferences last */
    {TV_CATEGORY_MEETING, 180, "meeting", "Hội họp, hội nghị", "Meetings and conferences"},
    /* an outpatient visit with its waiting; inpatients are registered otherwise */
    {TV_CATEGORY_HOSPITAL, 240, "hospital", "Bệnh viện, phòng khám", "Hospitals and clinics"},
    /* residents come home for the night */
    {TV_CATEGORY_APARTMENT, 720, "apartment", "Chung cư", "Apartment buildings"},
    /* a school day with its lunch break */
    {TV_CATEGORY_SCHOOL, 480, "school", "Trường học", "Schools"},
    {TV_CATEGORY_STATION_PORT, 60, "station_port", "Nhà ga, bến xe, bến cảng",
     "Stations and ports"},
    /* a typical bus or ferry ride; long-distance coaches check in at the station */
    {TV_CATEGORY_PUBLIC_TRANSPORT, 60, "public_transport", "Phương tiện giao thông công cộng",
     "Public transport"},
    {TV_CATEGORY_MALL_SUPERMARKET, 120, "mall_supermarket", "Trung tâm thương mại, siêu thị",
     "Malls and supermarkets"},
    {TV_CATEGORY_MARKET, 60, "market", "Chợ", "Markets"},
    {TV_CATEGORY_ESSENTIAL_SHOP, 30, "essential_shop", "Cửa hàng thiết yếu", "Essential shops"},
    /* mourners come to pay respects; the family stays longer and checks out */
    {TV_CATEGORY_FUNERAL, 90, "funeral", "Đám tang", "Funerals"},
    /* a wedding reception */
    {TV_CATEGORY_WEDDING, 180, "wedding", "Đám cưới", "Weddings"},
    {TV_CATEGORY_TOURISM, 180, "tourism", "Điểm du lịch, vui chơi giải trí",
     "Tourist and entertainment sites"},
    {TV_CATEGORY_RELIGIOUS, 90, "religious", "Cơ sở tôn giáo, tín ngưỡng", "Religious sites"},
    /* one night */
    {TV_CATEGORY_HOTEL, 720, "hotel", "Khách sạn, nhà nghỉ", "Hotels and lodging"},
    {TV_CATEGORY_OTHER, 60, "other", "Khác", "Other"},
};

_Static_assert(TV_CATEGORY_OTHER == TV_CATEGORY_COUNT, "codes run 1..TV_CATEGORY_COUNT");
_Static_assert(TV_CATEGORY_COUNT <= UINT8_MAX, "codes fit the uint8_t field");

const tv_category *tv_category_by_code(unsigned code)
{
    if (code < 1 || code > TV_CATEGORY_COUNT) return NULL;
    const tv_category *c = &table[code - 1];
    assert(c->code == code);
    return c;
}

static char slug_fold(char ch)
{
    if (ch >= 'A' && ch <= 'Z') return (char)(ch - 'A' + 'a');
    if (ch == '-') return '_';
    return ch;
}

/* Compares s with a table slug (already lowercase with '_') after folding s. */
static int slug_equal(const char *s, const char *slug)
{
    for (; *s && *slug; s++, slug++)
        if (slug_fold(*s) != *slug) return 0;
    return *s == '\0' && *slug == '\0';
}

const tv_category *tv_category_by_slug(const char *s)
{
    assert(s);
    for (size_t i = 0; i < TV_CATEGORY_COUNT; i++)
        if (slug_equal(s, table[i].slug)) return &table[i];
    return NULL;
}

/* Does the folded key equal one of the comma-separated parts of name, or name whole? */
static int name_matches(const char *key, const char *name)
{
    char part[TV_TEXT_FOLD_BYTES], folded[TV_TEXT_FOLD_BYTES];
    if (tv_text_fold(name, folded, sizeof folded) == 0 && strcmp(key, folded) == 0) return 1;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, ",");
        if (n < sizeof part) {
            memcpy(part, p, n);
            part[n] = '\0';
            if (tv_text_fold(part, folded, sizeof folded) == 0 && strcmp(key, folded) == 0)
                return 1;
        }
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

const tv_category *tv_category_find(const char *s)
{
    assert(s);
    const tv_category *c = tv_category_by_slug(s);
    if (c) return c;
    char key[TV_TEXT_FOLD_BYTES];
    if (tv_text_fold(s, key, sizeof key) || !key[0]) return NULL;
    for (size_t i = 0; i < TV_CATEGORY_COUNT; i++)
        if (name_matches(key, table[i].name_vi) || name_matches(key, table[i].name_en))
            return &table[i];
    return NULL;
}

const tv_category *tv_category_at(size_t i)
{
    return i < TV_CATEGORY_COUNT ? &table[i] : NULL;
}
