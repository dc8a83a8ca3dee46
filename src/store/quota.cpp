// quota.cpp - see quota.hpp.
#include "store/quota.hpp"

#include "store/maildir_name.hpp"

namespace boxmail::store {

std::optional<std::uint64_t> stored_octets(std::string_view name) { return parse_maildir_sizes(name).size; }

void add_message(MaildirUsage& usage, std::uint64_t octets) {
  usage.octets += octets;
  ++usage.messages;
}

MaildirUsage subtract(MaildirUsage usage, const MaildirUsage& removed) {
  usage.octets = usage.octets > removed.octets ? usage.octets - removed.octets : 0;
  usage.messages = usage.messages > removed.messages ? usage.messages - removed.messages : 0;
  return usage;
}

QuotaVerdict check_quota(std::uint64_t usage, std::uint64_t quota, std::uint64_t declared_size) {
  if (quota == 0) return QuotaVerdict::Ok;
  if (usage >= quota) return QuotaVerdict::Full;
  if (declared_size > quota) return QuotaVerdict::TooBig;
  if (declared_size > quota - usage) return QuotaVerdict::Full;
  return QuotaVerdict::Ok;
}

bool below_reserve(std::optional<std::uint64_t> free, std::uint64_t reserve, std::uint64_t declared_size) {
  if (!free) return false;
  if (reserve == 0 && declared_size == 0) return false;
  if (*free < reserve) return true;
  return declared_size > *free - reserve;
}

}  // namespace boxmail::store
