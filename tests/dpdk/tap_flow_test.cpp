// rte_flow steering on a device that has it: net_tap with two queues, whose
// rte_flow turns a QUEUE action into a kernel TC rule (multiq qdisc, flower
// classifier, skbedit queue_mapping) on the tap interface. The tap interface is
// made inside a network namespace this test creates and removes; the kernel side
// sends UDP from ordinary sockets in that namespace to two mixer ports owned by
// queues 0 and 1, and each datagram must arrive on its owner's queue without the
// software hand-off. Nothing leaves the namespace. Needs root (netns, tap, TC).
//
// Where the kernel lacks the TC pieces (CONFIG_NET_SCH_MULTIQ, CONFIG_NET_CLS_FLOWER,
// CONFIG_NET_ACT_SKBEDIT) net_tap refuses the rule: the test then checks that the
// hand-off delivered everything to the owners anyway, and skips, saying why.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rte_bus_vdev.h>
#include <rte_log.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "dpdk/dpdk_test_support.h"

namespace mrfp::dataplane::test {
namespace {

bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

std::string mac_text(const packet::MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

// A network namespace mrfp-flow-<pid>, entered by the calling (main) thread for the
// test's life: net_tap makes its interface, its netlink and ioctl sockets and (at
// queue setup) its extra queue fds by name in the namespace of the thread that
// calls it, so the port is probed, configured and started from inside. Leaving
// restores the thread's own namespace; the namespace is deleted last.
class TapNamespace {
 public:
  TapNamespace() : netns_("mrfp-flow-" + std::to_string(getpid() % 100000)) {}
  ~TapNamespace() {
    leave();
    if (created_) run("ip netns del " + netns_);
  }
  TapNamespace(const TapNamespace&) = delete;
  TapNamespace& operator=(const TapNamespace&) = delete;

  bool create_and_enter() {
    if (!run("ip netns add " + netns_)) return false;
    created_ = true;
    home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = ::open(("/var/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = home_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
    if (target >= 0) ::close(target);
    entered_ = entered;
    return entered && run("ip -n " + netns_ + " link set lo up");
  }
  void leave() {
    if (entered_) setns(home_, CLONE_NEWNET);
    entered_ = false;
    if (home_ >= 0) ::close(home_);
    home_ = -1;
  }
  const std::string& netns() const { return netns_; }

 private:
  std::string netns_;
  int home_ = -1;
  bool created_ = false;
  bool entered_ = false;
};

// The vdev goes with the test, however it ends: the tap interface disappears with
// its last fd, inside the namespace, before the namespace is deleted.
struct VdevGuard {
  std::string name;
  bool made = false;
  ~VdevGuard() { remove(); }
  void remove() {
    if (!made) return;
    made = false;
    std::uint16_t port_id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) == 0) rte_eth_dev_close(port_id);
    rte_vdev_uninit(name.c_str());
  }
};

std::uint16_t port_of(const OpenedSocket& socket) {
  return ntohs(reinterpret_cast<const sockaddr_in*>(&socket.local.address)->sin_port);
}

TEST(DpdkTapFlow, EachPortsDatagramsArriveOnItsOwnersQueueWithoutTheHandOff) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create a network namespace and a tap interface";
  TapNamespace netns;
  if (!netns.create_and_enter()) GTEST_SKIP() << "cannot create or enter a network namespace (no CAP_SYS_ADMIN?)";
  // The refusal, if any, is logged once at INFO: show it (the tests' EAL runs at *:warning).
  rte_log_set_level(static_cast<std::uint32_t>(dpdk_log_type()), RTE_LOG_INFO);

  const std::string interface = "mrfpt" + std::to_string(getpid() % 100000);
  const std::string vdev = "net_tap_" + interface;
  VdevGuard guard{vdev};
  ASSERT_EQ(rte_vdev_init(vdev.c_str(), ("iface=" + interface).c_str()), 0)
      << "net_tap " << interface << " in " << netns.netns() << " (needs /dev/net/tun)";
  guard.made = true;
  constexpr int kSenders = 8;  // source ports: without steering the kernel's hash spreads them over both queues
  std::string refusal;
  {
    DpdkPortConfig config;
    config.device = vdev;
    config.queues = 2;
    config.ipv4_address = "198.18.0.1";
    config.mbufs_per_queue = 1024;
    config.idle_sleep_us = 0;
    auto opened = DpdkPort::open(config);
    ASSERT_TRUE(opened) << opened.error().message;
    const std::shared_ptr<DpdkPort> port = opened.value();
    auto zero = DpdkBackend::create(port, 0);
    auto one = DpdkBackend::create(port, 1);
    ASSERT_TRUE(zero && one);
    DpdkBackend* backends[2] = {zero.value().get(), one.value().get()};

    // The kernel side, configured once DPDK started the interface (shared/dpdk.md):
    // our address, and the mixer's MAC pinned so no ARP is needed. No IPv6 chatter.
    const std::string in_ns = "ip -n " + netns.netns() + " ";
    ASSERT_TRUE(run(in_ns + "addr add 198.18.0.10/24 dev " + interface));
    run("sysctl -qw net.ipv6.conf." + interface + ".disable_ipv6=1");  // we are inside: the namespace's sysctl
    ASSERT_TRUE(run(in_ns + "link set " + interface + " up"));
    ASSERT_TRUE(run(in_ns + "neigh replace 198.18.0.1 lladdr " + mac_text(port->addressing().mac) + " dev " +
                    interface + " nud permanent"));

    auto allocator = PortAllocator::create(31000, 31099, PortParity::Any);
    ASSERT_TRUE(allocator);
    OpenedSocket sockets[2];
    for (int q = 0; q < 2; ++q) {
      auto socket = backends[q]->open_in_range("198.18.0.1", allocator.value());
      ASSERT_TRUE(socket) << socket.error().message;
      sockets[q] = socket.value();
    }
    refusal = port->flow_refusal();
    const std::uint64_t installed =
        backends[0]->counters().flow_rules_installed + backends[1]->counters().flow_rules_installed;
    const std::uint64_t refused =
        backends[0]->counters().flow_rules_refused + backends[1]->counters().flow_rules_refused;
    EXPECT_EQ(installed + refused, 2u);
    if (refusal.empty()) {
      EXPECT_EQ(installed, 2u) << "no refusal recorded, yet not every port has a rule";
    }

    // Kernel UDP sockets in the namespace (this thread is in it): each sends one
    // datagram to each mixer port; the payload names the port it was meant for.
    std::vector<int> senders;
    for (int i = 0; i < kSenders; ++i) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ASSERT_GE(fd, 0);
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, "198.18.0.10", &local.sin_addr);
      ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
      senders.push_back(fd);
    }
    for (int fd : senders) {
      for (int q = 0; q < 2; ++q) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port_of(sockets[q]));
        inet_pton(AF_INET, "198.18.0.1", &to.sin_addr);
        const std::uint8_t payload[4] = {0x80, 0, static_cast<std::uint8_t>(q), 0x5A};
        EXPECT_EQ(sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                  static_cast<ssize_t>(sizeof payload));
      }
    }
    for (int fd : senders) ::close(fd);

    // Poll both queues as their workers would, until everything came or 3 s passed.
    int delivered[2] = {0, 0};
    int misdelivered = 0;
    ReceiveBurst burst(64, 2048);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (delivered[0] + delivered[1] < 2 * kSenders && std::chrono::steady_clock::now() < deadline) {
      bool any = false;
      for (int q = 0; q < 2; ++q) {
        backends[q]->receive_burst(burst, 0);
        for (const ReceivedDatagram& datagram : burst) {
          any = true;
          if (datagram.length == 4 && datagram.data[2] == q && datagram.local_port == port_of(sockets[q]) &&
              datagram.local_port_index == sockets[q].index) {
            ++delivered[q];
          } else {
            ++misdelivered;
          }
        }
      }
      if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const DpdkCounters& c0 = backends[0]->counters();
    const DpdkCounters& c1 = backends[1]->counters();
    std::printf("net_tap 2 queues: rules installed %lu+%lu refused %lu+%lu | rx frames %lu+%lu delivered %lu+%lu "
                "handed off %lu+%lu from other queue %lu+%lu | bad checksum %lu+%lu unsupported %lu+%lu\n",
                c0.flow_rules_installed, c1.flow_rules_installed, c0.flow_rules_refused, c1.flow_rules_refused,
                c0.rx_frames, c1.rx_frames, c0.rx_delivered, c1.rx_delivered, c0.rx_handed_off, c1.rx_handed_off,
                c0.rx_from_other_queues, c1.rx_from_other_queues, c0.rx_bad_checksum, c1.rx_bad_checksum,
                c0.rx_unsupported, c1.rx_unsupported);
    // Whichever path carried them, every datagram reached the worker owning its port.
    EXPECT_EQ(delivered[0], kSenders);
    EXPECT_EQ(delivered[1], kSenders);
    EXPECT_EQ(misdelivered, 0);
    if (refusal.empty()) {
      // The device did it: nothing crossed between the workers.
      EXPECT_EQ(c0.flow_rules_installed, 1u);
      EXPECT_EQ(c1.flow_rules_installed, 1u);
      EXPECT_EQ(c0.rx_handed_off + c1.rx_handed_off, 0u);
      EXPECT_EQ(c0.rx_from_other_queues + c1.rx_from_other_queues, 0u);
    } else {
      EXPECT_EQ(c0.flow_rules_installed + c1.flow_rules_installed, 0u);
      EXPECT_EQ(c0.rx_handed_off + c1.rx_handed_off, c1.rx_from_other_queues + c0.rx_from_other_queues)
          << "what one queue handed off, the other took";
    }
    // Closing destroys the rules (rte_flow_destroy): nothing failed.
    for (int q = 0; q < 2; ++q) EXPECT_TRUE(backends[q]->close(sockets[q].index, &allocator.value()));
    EXPECT_EQ(c0.flow_rules_destroy_failed + c1.flow_rules_destroy_failed, 0u);
  }
  guard.remove();
  netns.leave();
  if (!refusal.empty()) {
    GTEST_SKIP() << "net_tap's rte_flow is unavailable on this kernel, so steering was not tested (the "
                    "hand-off fallback was, and delivered everything to the owners). DPDK said: "
                 << refusal
                 << ". net_tap's QUEUE action needs the kernel's TC multiq qdisc, flower classifier and "
                    "skbedit action (CONFIG_NET_SCH_MULTIQ, CONFIG_NET_CLS_FLOWER, CONFIG_NET_ACT_SKBEDIT).";
  }
}

}  // namespace
}  // namespace mrfp::dataplane::test
