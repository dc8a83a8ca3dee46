// nft_backend_none.cpp - boxmail-fw built without firewall support
// (BOXMAIL_FIREWALL=OFF): every operation reports that. See nft_backend.hpp.
#include "firewall/nft_backend.hpp"

namespace boxmail::firewall {

const char* backend_name() { return "none"; }

Status check() {
  return {false, "built without firewall support (BOXMAIL_FIREWALL=OFF)"};
}

RunResult run_script(const std::string&, bool) {
  return {false, "", "built without firewall support (BOXMAIL_FIREWALL=OFF)"};
}

}  // namespace boxmail::firewall
