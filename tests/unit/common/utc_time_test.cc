// The one form of a UTC time: written and read back the same; anything else refused.
#include "common/utc_time.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(UtcTimeTest, WrittenAndReadBack) {
  EXPECT_EQ(utc_time_text(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_time_text(1796459400), "2026-12-05T08:30:00Z");
  EXPECT_EQ(parse_utc_time("2026-12-05T08:30:00Z"), 1796459400);
  EXPECT_EQ(parse_utc_time("2028-02-29T23:59:59Z"), 1835481599);
  for (const int64_t t : {int64_t{1}, int64_t{951782400}, int64_t{4102444799}}) {
    EXPECT_EQ(parse_utc_time(utc_time_text(t)), t);
  }
}

TEST(UtcTimeTest, OnlyTheOneStrictFormIsTaken) {
  for (const char* bad : {"", "2026-12-05", "2026-12-05 08:30:00Z", "2026-12-05T08:30:00",
                          "2026-12-05T08:30:00+00:00", "2026-12-05T08:30:00.5Z",
                          "2026-13-05T08:30:00Z", "2026-02-30T08:30:00Z", "2027-02-29T00:00:00Z",
                          "2026-12-00T08:30:00Z", "2026-12-05T24:00:00Z", "2026-12-05T08:60:00Z",
                          "2026-12-05T08:30:60Z", "1969-12-31T23:59:59Z", "2026-12-05T08:30:00z",
                          "+026-12-05T08:30:00Z", "２026-12-05T08:30:00Z"}) {
    EXPECT_FALSE(parse_utc_time(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vigil
