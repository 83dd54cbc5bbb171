// The DPDK backend on a real kernel link: net_af_packet on one end of a veth
// pair, the other end in a network namespace this test creates and removes,
// where the participants are ordinary kernel UDP sockets (SimParticipant). The
// kernel resolves the mixer by ARP and pings it; the conference must sound as on
// the socket backend. Needs root (CAP_NET_ADMIN, CAP_NET_RAW): skipped otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <rte_bus_vdev.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "bench/peer/sim_participant.h"
#include "dataplane/dataplane.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/icmp.h"
#include "dpdk/dpdk_test_support.h"

namespace mrfp::dataplane::test {
namespace {

bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

// A veth offloads UDP checksums to a NIC that does not exist: what AF_PACKET hands
// DPDK carries only the pseudo-header sum (CHECKSUM_PARTIAL). A real wire never
// does, so the kernel peer computes them itself (ethtool -K <if> tx off, as an ioctl).
bool disable_tx_checksum_offload(const std::string& interface) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ethtool_value value{ETHTOOL_STXCSUM, 0};
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  request.ifr_data = reinterpret_cast<char*>(&value);
  const bool ok = fd >= 0 && ioctl(fd, SIOCETHTOOL, &request) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

// RFC 792 echo from a raw socket (no ping binary needed); true when the reply came.
bool echo(int raw_socket, const char* to, std::uint16_t identifier) {
  std::uint8_t request[16] = {packet::icmp_type::kEchoRequest, 0, 0, 0};
  packet::store_be16(request + 4, identifier);
  packet::store_be16(request + 6, 1);
  std::memcpy(request + 8, "mrfpecho", 8);
  packet::store_be16(request + 2, packet::internet_checksum(request));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, to, &address.sin_addr);
  if (sendto(raw_socket, request, sizeof request, 0, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd ready{raw_socket, POLLIN, 0};
    if (poll(&ready, 1, 100) <= 0) continue;
    std::uint8_t reply[256];
    const auto n = recv(raw_socket, reply, sizeof reply, 0);
    if (n < 28) continue;
    const std::size_t ip_header = 4u * (reply[0] & 0x0F);
    const auto parsed = packet::parse_icmp_echo({reply + ip_header, static_cast<std::size_t>(n) - ip_header});
    if (parsed && parsed->type == packet::icmp_type::kEchoReply && parsed->identifier == identifier) return true;
  }
  return false;
}

// veth mrfpd<pid> (ours, no address: DPDK owns it) <-> mrfpk<pid> in netns
// mrfp-test-<pid> with 198.18.0.10/24 (RFC 2544 range, inside the namespace only).
class VethNamespace {
 public:
  VethNamespace()
      : id_(std::to_string(getpid() % 100000)),
        netns_("mrfp-test-" + id_),
        ours_("mrfpd" + id_),
        theirs_("mrfpk" + id_) {}
  ~VethNamespace() {
    if (created_) {
      run("ip netns del " + netns_);  // takes its veth end and so the pair with it
      run("ip link del " + ours_);
    }
  }

  bool create() {
    if (!run("ip netns add " + netns_)) return false;
    created_ = true;
    return run("ip link add " + ours_ + " type veth peer name " + theirs_) &&
           run("ip link set " + theirs_ + " netns " + netns_) &&
           run("ip -n " + netns_ + " addr add 198.18.0.10/24 dev " + theirs_) &&
           run("ip -n " + netns_ + " link set lo up") && run("ip -n " + netns_ + " link set " + theirs_ + " up") &&
           (run("sysctl -qw net.ipv6.conf." + ours_ + ".disable_ipv6=1"), true) &&  // quiet: no ND/MLD noise
           run("ip link set " + ours_ + " up");
  }
  const std::string& netns() const { return netns_; }
  const std::string& ours() const { return ours_; }
  const std::string& theirs() const { return theirs_; }

 private:
  std::string id_, netns_, ours_, theirs_;
  bool created_ = false;
};

TEST(DpdkVeth, KernelPeersInANamespaceHearEachOtherThroughAfPacket) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create a network namespace and a veth pair";
  VethNamespace veth;
  if (!veth.create()) GTEST_SKIP() << "cannot create netns/veth (no CAP_NET_ADMIN, or no iproute2)";

  const std::string vdev = "net_af_packet_" + veth.ours();
  ASSERT_EQ(rte_vdev_init(vdev.c_str(), ("iface=" + veth.ours() + ",qpairs=1").c_str()), 0)
      << "net_af_packet on " << veth.ours() << " (needs CAP_NET_RAW)";
  {
    DpdkPortConfig config;
    config.device = vdev;
    config.ipv4_address = "198.18.0.1";
    config.mbufs_per_queue = 2048;
    config.idle_sleep_us = 100;
    auto port = DpdkPort::open(config);
    ASSERT_TRUE(port) << port.error().message;

    DataplaneOptions options;
    options.media_address = "198.18.0.1";
    options.port_min = 32000;
    options.port_max = 32999;
    options.max_participants_per_conference = 64;
    const DpdkBackend* backend = nullptr;  // read only once the worker has stopped
    options.backend_factory = [factory = dpdk_backend_factory(port.value()), &backend](unsigned worker) {
      auto made = factory(worker);
      backend = static_cast<const DpdkBackend*>(made.get());
      return made;
    };
    Dataplane dataplane(options);
    dataplane.start();

    const auto group_key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 77);
    ConferenceSpec spec;
    spec.codecs = {mixer::Codec::Pcmu};
    spec.speakers = 3;
    spec.group_key = group_key;
    auto conference = dataplane.create_conference(spec);
    ASSERT_TRUE(conference) << conference.error().message;

    // The participants' sockets belong to the namespace: made on a thread that entered it.
    const double tones[] = {500, 900, 1400};
    std::vector<std::unique_ptr<sim::SimParticipant>> participants;
    const int netns_fd = ::open(("/var/run/netns/" + veth.netns()).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(netns_fd, 0);
    int raw_socket = -1;
    bool checksums_in_software = false;
    std::thread([&] {
      if (setns(netns_fd, CLONE_NEWNET) != 0) return;
      checksums_in_software = disable_tx_checksum_offload(veth.theirs());
      raw_socket = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
      for (int i = 0; i < 3; ++i) {
        sim::ParticipantConfig peer{.codec = mixer::Codec::Pcmu, .payload_type = 0,
                                    .ssrc = 0x20000u + static_cast<std::uint32_t>(i), .tone_hz = tones[i],
                                      .level_ext_id = 1, .send_key = group_key, .receive_key = group_key,
                                      .bind_host = "198.18.0.10"};
        participants.push_back(std::make_unique<sim::SimParticipant>(peer));
      }
    }).join();
    ::close(netns_fd);
    ASSERT_EQ(participants.size(), 3u) << "setns into " << veth.netns();
    ASSERT_TRUE(checksums_in_software) << "SIOCETHTOOL ETHTOOL_STXCSUM on " << veth.theirs();
    ASSERT_GE(raw_socket, 0);
    // Through the kernel's own ARP resolution of the mixer (RFC 826), then RFC 792 echo.
    EXPECT_TRUE(echo(raw_socket, "198.18.0.1", 0x4d52)) << "ICMP echo to 198.18.0.1 through af_packet";
    ::close(raw_socket);
    for (auto& participant : participants) {
      ParticipantSpec p;
      p.conference = conference->id;
      p.codec = mixer::Codec::Pcmu;
      p.payload_type = 0;
      p.declared_ssrc = participant->config().ssrc;
      p.audio_level_ext_id = 1;
      p.remote = Endpoint::parse("198.18.0.10", participant->local_port());
      auto added = dataplane.add_participant(p);
      ASSERT_TRUE(added) << added.error().message;
      participant->set_mixer_endpoint(added->local.address);
    }

    auto next = std::chrono::steady_clock::now();
    for (int frame = 0; frame < 100; ++frame) {
      for (auto& participant : participants) participant->send_frame(true);
      next += std::chrono::milliseconds(20);
      std::this_thread::sleep_until(next);
      for (auto& participant : participants) participant->receive_available();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (auto& participant : participants) participant->receive_available();

    const auto stats = dataplane.conference_stats(conference->id);
    ASSERT_TRUE(stats);
    for (std::size_t i = 0; i < participants.size(); ++i) {
      const auto& p = *participants[i];
      SCOPED_TRACE("participant " + std::to_string(i));
      EXPECT_EQ(stats->participants[i].counters.drop_auth_failed, 0u);
      EXPECT_GE(p.received(), 85u);
      EXPECT_EQ(p.auth_failures(), 0u);
      const auto last_second = static_cast<std::size_t>(p.received_rate_hz());
      for (std::size_t j = 0; j < participants.size(); ++j) {
        const double power = p.received_tone_power(tones[j], last_second);
        if (i == j) {
          EXPECT_LT(power, 0.002) << "hears its own tone " << tones[j];
        } else {
          EXPECT_GT(power, 0.005) << "misses tone " << tones[j];
        }
      }
    }
    dataplane.stop();
    ASSERT_NE(backend, nullptr);
    const DpdkCounters& c = backend->counters();
    EXPECT_GE(c.rx_delivered, 250u);
    EXPECT_GE(c.rx_arp_requests, 1u) << "the kernel resolved the mixer";
    EXPECT_GE(c.rx_icmp_echo, 1u);
    EXPECT_EQ(c.tx_refused, 0u);
    std::printf("af_packet counters: rx %lu delivered %lu arp %lu/%lu echo %lu not-for-us %lu unsupported %lu "
                "closed %lu badsum %lu | tx %lu unresolved %lu refused %lu arp-req %lu chained %d\n",
                c.rx_frames, c.rx_delivered, c.rx_arp_requests, c.rx_arp_replies, c.rx_icmp_echo, c.rx_not_for_us,
                c.rx_unsupported, c.rx_closed_port, c.rx_bad_checksum, c.tx_frames, c.tx_unresolved, c.tx_refused,
                c.tx_arp_requests, port.value()->chained_tx());
  }
  std::uint16_t port_id = 0;
  if (rte_eth_dev_get_port_by_name(vdev.c_str(), &port_id) == 0) rte_eth_dev_close(port_id);
  rte_vdev_uninit(vdev.c_str());
}

}  // namespace
}  // namespace mrfp::dataplane::test
