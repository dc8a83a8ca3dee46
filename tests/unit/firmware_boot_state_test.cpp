// firmware_boot_state_test.cpp - the A/B boot-state sector
// (firmware/boot_state.hpp): what u-boot's `env export -t` wrote from
// board/qemu-aarch64/boot.cmd (the texts below were read back from the
// disk after real boots under QEMU) reads as meant; what Linux writes is
// one sector that reads back the same; trials start and are confirmed.
#include "firmware/boot_state.hpp"

#include <gtest/gtest.h>

#include <string>

namespace boxmail::firmware {
namespace {

std::string sector(std::string text) {
  text.resize(kBootStateSize, '\0');
  return text;
}

TEST(BootState, ReadsWhatUbootWrote) {
  struct Case {
    std::string text;
    BootState want;
  } cases[] = {
      {"", BootState{'a', std::nullopt, 0, std::nullopt}},   // a new disk: zeros
      {"bm_active=a\nbm_tries=1\nbm_try=b\n", BootState{'a', 'b', 1, std::nullopt}},
      {"bm_active=a\nbm_tries=3\nbm_try=b\n", BootState{'a', 'b', 3, std::nullopt}},
      {"bm_active=a\nbm_failed=b\n", BootState{'a', std::nullopt, 0, 'b'}},
      {"bm_active=b\nbm_failed=a\n", BootState{'b', std::nullopt, 0, 'a'}},
      {"bootcmd=reset\nbm_active=b\n", BootState{'b', std::nullopt, 0, std::nullopt}},   // others ignored
  };
  for (const Case& c : cases) {
    const BootStateParse p = parse_boot_state(sector(c.text));
    EXPECT_EQ(p.error, "") << c.text;
    EXPECT_EQ(p.state, c.want) << c.text;
  }
}

TEST(BootState, BadValuesFallBackToSafeDefaults) {
  struct Case {
    std::string text, error;
    BootState want;
  } cases[] = {
      {"bm_active=c\n", "bm_active is not a slot", BootState{}},
      {"bm_active=b\nbm_try=x\nbm_tries=2\n", "bm_try is not a slot", BootState{'b', std::nullopt, 0, std::nullopt}},
      {"bm_active=a\nbm_try=b\nbm_tries=many\n", "bm_tries is not a number", BootState{'a', 'b', 0, std::nullopt}},
      {"bm_active=a\nbm_try=a\nbm_tries=1\n", "bm_try names the active slot", BootState{}},
      {"garbage\nbm_active=b\n", "a line without '='", BootState{'b', std::nullopt, 0, std::nullopt}},
      {"bm_failed=z\n", "bm_failed is not a slot", BootState{}},
  };
  for (const Case& c : cases) {
    const BootStateParse p = parse_boot_state(sector(c.text));
    EXPECT_NE(p.error.find(c.error), std::string::npos) << c.text << " -> " << p.error;
    EXPECT_EQ(p.state, c.want) << c.text;
  }
  EXPECT_NE(parse_boot_state(std::string(kBootStateSize + 1, 'x')).error, "");
  // Text after the first NUL is not read (u-boot's padding).
  EXPECT_EQ(parse_boot_state(std::string("bm_active=b\n\0bm_active=a\n", 26)).state.active, 'b');
}

TEST(BootState, TrialAndConfirmation) {
  const BootState fresh;
  const BootState trial = start_trial('a');
  EXPECT_EQ(trial, (BootState{'a', 'b', 0, std::nullopt}));
  const std::string written = format_boot_state(trial);
  ASSERT_EQ(written.size(), kBootStateSize);
  EXPECT_EQ(written.substr(0, written.find('\0')), "bm_active=a\nbm_try=b\nbm_tries=0\n");
  EXPECT_EQ(parse_boot_state(written).state, trial);
  // u-boot counted one boot of b; b answers: b becomes the active slot.
  const BootState booted{'a', 'b', 1, std::nullopt};
  const auto confirmed = confirm_healthy(booted, 'b');
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(*confirmed, (BootState{'b', std::nullopt, 0, std::nullopt}));
  EXPECT_EQ(format_boot_state(*confirmed).substr(0, 12), "bm_active=b\n");
  // Nothing to confirm: no trial, or running the other slot.
  EXPECT_FALSE(confirm_healthy(fresh, 'a'));
  EXPECT_FALSE(confirm_healthy(booted, 'a'));
  // After a fallback u-boot left bm_failed; a new trial forgets it.
  const BootState fell_back{'a', std::nullopt, 0, 'b'};
  EXPECT_EQ(parse_boot_state(format_boot_state(fell_back)).state, fell_back);
  EXPECT_EQ(start_trial('a'), trial);
  EXPECT_EQ(start_trial('b'), (BootState{'b', 'a', 0, std::nullopt}));
}

}  // namespace
}  // namespace boxmail::firmware
