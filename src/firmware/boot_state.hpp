// boot_state.hpp - the A/B boot-state sector shared by the boot loader's
// script and Linux (pure; docs/firmware.md "A/B slots and the fallback").
//
// One 512-octet sector in the gap before the boot partition holds text as
// u-boot's `env export -t -s 0x200` writes it and `env import -t` reads it:
// `name=value` lines, LF-terminated, NUL-padded to the end:
//
//   bm_active=a        the slot known good
//   bm_try=b           a slot on trial (absent: none)
//   bm_tries=1         boots of the trial slot so far
//   bm_failed=b        a trial that never came up healthy (absent: none)
//
// The boot script boots bm_try while bm_tries < kMaxTries (counting each
// boot in the sector first), else falls back to bm_active, sets bm_failed
// and clears the trial. Linux starts a trial after writing the inactive
// slot (start_trial) and confirms it once boxmaild answers (confirm_healthy).
// A blank or unreadable sector reads as "slot a, no trial": the state a new
// disk starts in.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace boxmail::firmware {

/// Octets of the boot-state sector.
inline constexpr std::size_t kBootStateSize = 512;
/// Boots a trial slot gets before the fallback.
inline constexpr unsigned kMaxTries = 3;

/// 'a' or 'b'.
using Slot = char;

/// The sector's meaning.
struct BootState {
  Slot active = 'a';
  std::optional<Slot> trial;
  unsigned tries = 0;
  std::optional<Slot> failed;

  bool operator==(const BootState&) const = default;
};

/// Result of parse_boot_state: the state (defaults for what could not be
/// read) and, when something could not be read, what.
struct BootStateParse {
  BootState state;
  std::string error;
};

/// Reads a sector (at most kBootStateSize octets; the text ends at the first
/// NUL). Unknown names are ignored (u-boot may add its own); a known name
/// with a bad value, a line without '=' or a sector longer than
/// kBootStateSize are errors (the state then holds the defaults for the bad
/// parts: a trial that cannot be read is no trial).
BootStateParse parse_boot_state(std::string_view sector);

/// The sector for `state`: exactly kBootStateSize octets (text, NUL padding).
std::string format_boot_state(const BootState& state);

/// The other slot.
constexpr Slot other_slot(Slot s) { return s == 'a' ? 'b' : 'a'; }

/// True for 'a' and 'b'.
constexpr bool is_slot(char c) { return c == 'a' || c == 'b'; }

/// The state that puts the slot other than `running` on trial (after its
/// files were written and synced): `running` active, bm_try the other
/// slot, tries 0, an old failure forgotten.
BootState start_trial(Slot running);

/// The state to write once boxmaild answers on `running`: a trial of
/// `running` becomes the active slot. nullopt when nothing changes (no trial,
/// or running a slot that is not on trial: after a fallback the trial was
/// already cleared by the boot script).
std::optional<BootState> confirm_healthy(const BootState& state, Slot running);

}  // namespace boxmail::firmware
