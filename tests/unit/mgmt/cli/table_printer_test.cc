#include "mgmt/cli/table_printer.h"

#include <gtest/gtest.h>

namespace vigil::mgmt::cli {
namespace {

TEST(TablePrinter, AlignsColumnsWithoutTrailingBlanks) {
  TablePrinter t({"component", "version", "commit"});
  t.add_row({"vigil", "0.1.0", "abc"});
  t.add_row({"vigild", "0.10.0-rc1", ""});
  EXPECT_EQ(t.render(),
            "component  version     commit\n"
            "vigil      0.1.0       abc\n"
            "vigild     0.10.0-rc1\n");
}

TEST(TablePrinter, ShortRowsArePadded) {
  TablePrinter t({"a", "b"});
  t.add_row({"x"});
  EXPECT_EQ(t.render(), "a  b\nx\n");
}

TEST(TablePrinter, WithoutHeader) {
  TablePrinter t({"a", "b"}, false);
  t.add_row({"long", "1"});
  EXPECT_EQ(t.render(), "long  1\n");
}

}  // namespace
}  // namespace vigil::mgmt::cli
