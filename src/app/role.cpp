// role.cpp - picking the multi-call binary's role; see roles.hpp.
#include "app/roles.hpp"

namespace boxmail::app {

std::string_view base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

namespace {

std::optional<Role> role_named(std::string_view name) {
  for (const RoleName& r : kRoles) {
    if (r.name == name) return r.role;
  }
  return std::nullopt;
}

}  // namespace

RolePick pick_role(std::string_view argv0, std::optional<std::string_view> arg1) {
  const std::string_view name = base_name(argv0);
  if (name != kMultiCallName) return RolePick{role_named(name), 0, name};
  if (!arg1) return RolePick{std::nullopt, 1, ""};
  const std::string_view sub = base_name(*arg1);
  return RolePick{role_named(sub), 1, sub};
}

}  // namespace boxmail::app
