// boxmail-dnsq - prints what dns::Resolver answers (a test tool, not installed).
//
//   boxmail-dnsq [--server IP[:port]]... [--timeout S] [--attempts N]
//                [--order 4|6|4only|6only] [--seed N] [--own NAME]... TYPE NAME [ZONE]
//
// TYPE is route (the composite MX + address lookup of Resolver::route),
// mx, a, aaaa, txt, ptr (NAME is an address) or dnsbl (NAME is an address,
// ZONE the list's zone). One line per item, for tests to parse:
//   status STATUS                   (mx, a, aaaa, txt, ptr, dnsbl)
//   mx PREFERENCE EXCHANGE          (wire order)
//   address ADDRESS | txt TEXT | ptr NAME
//   route hosts [implicit]          then: target HOST ADDRESS (in order)
//   route permanent|temporary CODE TEXT
//   note TEXT                       (route: hosts left out)
//   elapsed MILLISECONDS
// Exit status 0 when an answer was printed, 1 when the resolver could not
// be made, 2 for a usage error. Without --server the resolver reads
// /etc/resolv.conf; the tests always give 127.0.0.1 servers.
#include "dns/resolver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <exception>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace boxmail;

namespace {

int usage() {
  std::cerr << "usage: boxmail-dnsq [--server IP[:port]]... [--timeout S] [--attempts N] "
               "[--order 4|6|4only|6only] [--seed N] [--own NAME]... route|mx|a|aaaa|txt|ptr|dnsbl NAME [ZONE]\n";
  return 2;
}

void print_status(dns::LookupStatus s) { std::cout << "status " << dns::to_string(s) << "\n"; }

void print_addresses(const dns::AddressAnswer& a) {
  print_status(a.status);
  for (const auto& address : a.addresses) std::cout << "address " << address.to_string() << "\n";
}

asio::awaitable<void> query(dns::Resolver& resolver, std::string type, std::string name, std::string zone,
                            dns::RouteOptions options, dns::RandomIndex random) {
  if (type == "route") {
    dns::Route r = co_await resolver.route(name, options, random);
    if (r.kind == dns::MxRoute::Kind::Hosts) {
      std::cout << "route hosts" << (r.implicit ? " implicit" : "") << "\n";
      for (const auto& t : r.targets) std::cout << "target " << t.host << " " << t.address.to_string() << "\n";
    } else {
      std::cout << "route " << (r.kind == dns::MxRoute::Kind::Permanent ? "permanent " : "temporary ")
                << r.enhanced_status << " " << r.text << "\n";
    }
    for (const auto& n : r.notes) std::cout << "note " << n << "\n";
  } else if (type == "mx") {
    dns::MxAnswer a = co_await resolver.mx(name);
    print_status(a.status);
    for (const auto& m : a.records) std::cout << "mx " << m.preference << " " << m.exchange << "\n";
  } else if (type == "a") {
    dns::AddressAnswer a = co_await resolver.a(name);
    print_addresses(a);
  } else if (type == "aaaa") {
    dns::AddressAnswer a = co_await resolver.aaaa(name);
    print_addresses(a);
  } else if (type == "txt") {
    dns::TxtAnswer a = co_await resolver.txt(name);
    print_status(a.status);
    for (const auto& t : a.texts) std::cout << "txt " << t << "\n";
  } else if (type == "ptr" || type == "dnsbl") {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(name, ec);
    if (ec) {
      std::cout << "status badname\n";
      co_return;
    }
    if (type == "ptr") {
      dns::PtrAnswer a = co_await resolver.ptr(address);
      print_status(a.status);
      for (const auto& n : a.names) std::cout << "ptr " << n << "\n";
    } else {
      dns::AddressAnswer a = co_await resolver.dnsbl(address, zone);
      print_addresses(a);
    }
  }
}

}  // namespace

int run_main(int argc, char** argv) {
  dns::ResolverOptions options;
  dns::RouteOptions route;
  std::vector<std::string> rest;
  std::optional<unsigned> seed;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--server" && has_value) {
      options.servers.push_back(argv[++i]);
    } else if (arg == "--timeout" && has_value) {
      options.timeout_seconds = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (arg == "--attempts" && has_value) {
      options.attempts = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (arg == "--seed" && has_value) {
      seed = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (arg == "--own" && has_value) {
      route.mx.own_names.push_back(argv[++i]);
    } else if (arg == "--order" && has_value) {
      const std::string o = argv[++i];
      if (o == "4") route.order = dns::AddressOrder::Ipv4First;
      else if (o == "6") route.order = dns::AddressOrder::Ipv6First;
      else if (o == "4only") route.order = dns::AddressOrder::Ipv4Only;
      else if (o == "6only") route.order = dns::AddressOrder::Ipv6Only;
      else return usage();
    } else if (arg.starts_with("--")) {
      return usage();
    } else {
      rest.push_back(arg);
    }
  }
  static const std::vector<std::string> kTypes = {"route", "mx", "a", "aaaa", "txt", "ptr", "dnsbl"};
  if (rest.size() < 2 || rest.size() > 3 || std::find(kTypes.begin(), kTypes.end(), rest[0]) == kTypes.end() ||
      (rest[0] == "dnsbl") != (rest.size() == 3)) {
    return usage();
  }
  dns::RandomIndex random = dns::default_random();
  if (seed) {
    auto engine = std::make_shared<std::minstd_rand>(*seed);
    random = [engine](std::size_t n) { return static_cast<std::size_t>((*engine)() % n); };
  }

  asio::io_context io;
  try {
    dns::Resolver resolver(io.get_executor(), options);
    const auto start = std::chrono::steady_clock::now();
    const std::string zone = rest.size() == 3 ? rest[2] : "";
    asio::co_spawn(io, query(resolver, rest[0], rest[1], zone, route, random), asio::detached);
    io.run();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::cout << "elapsed " << ms.count() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "boxmail-dnsq: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::logic_error&) {   // std::stoul: a number option that is not a number
    return usage();
  }
}
