// boot_state.cpp - see boot_state.hpp.
#include "firmware/boot_state.hpp"

#include "text/number.hpp"

namespace boxmail::firmware {

BootStateParse parse_boot_state(std::string_view sector) {
  BootStateParse r;
  if (sector.size() > kBootStateSize) {
    r.error = "the boot state is longer than " + std::to_string(kBootStateSize) + " octets";
    return r;
  }
  const std::string_view text = sector.substr(0, sector.find('\0'));
  auto note = [&](std::string what) {
    if (r.error.empty()) r.error = std::move(what);
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t lf = text.find('\n', pos);
    const std::string_view line = text.substr(pos, lf == std::string_view::npos ? lf : lf - pos);
    pos = lf == std::string_view::npos ? text.size() : lf + 1;
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      note("a line without '=' in the boot state");
      continue;
    }
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    const bool slot_value = value.size() == 1 && is_slot(value[0]);
    if (name == "bm_active") {
      if (slot_value) r.state.active = value[0];
      else note("bm_active is not a slot");
    } else if (name == "bm_try") {
      if (slot_value) r.state.trial = value[0];
      else if (!value.empty()) note("bm_try is not a slot");
    } else if (name == "bm_failed") {
      if (slot_value) r.state.failed = value[0];
      else if (!value.empty()) note("bm_failed is not a slot");
    } else if (name == "bm_tries") {
      const auto n = text::parse_unsigned<unsigned>(value, 1000);
      if (n) r.state.tries = n.value;
      else note("bm_tries is not a number");
    }
  }
  if (r.state.trial && *r.state.trial == r.state.active) {
    note("bm_try names the active slot");
    r.state.trial.reset();
  }
  if (!r.state.trial) r.state.tries = 0;
  return r;
}

std::string format_boot_state(const BootState& s) {
  std::string out = "bm_active=" + std::string(1, s.active) + "\n";
  if (s.failed) out += "bm_failed=" + std::string(1, *s.failed) + "\n";
  if (s.trial) out += "bm_try=" + std::string(1, *s.trial) + "\nbm_tries=" + std::to_string(s.tries) + "\n";
  out.resize(kBootStateSize, '\0');
  return out;
}

BootState start_trial(Slot running) {
  BootState next;
  next.active = running;
  next.trial = other_slot(running);
  return next;
}

std::optional<BootState> confirm_healthy(const BootState& state, Slot running) {
  if (!state.trial || *state.trial != running) return std::nullopt;
  BootState next;
  next.active = running;
  return next;
}

}  // namespace boxmail::firmware
