// Steering a participant's UDP port to the worker that owns it, in the device:
// one rte_flow rule per opened port (DPDK generic flow API, rte_flow.h), so the
// NIC puts the conference's media on the owner's RX queue and the software
// hand-off ring (dpdk_receive.cpp, hand_off) carries nothing. Devices without
// rte_flow (net_ring, net_af_packet, ...) or that refuse the rule keep the
// hand-off: it stays correct either way, since every backend still checks the
// port's owner on receive.
//
// Thread: open_in_range and close run on the worker's own thread (Worker::
// add_participant and close_port are commands the worker drains in its loop), or
// on whichever thread owns a stopped worker. Several workers may therefore call
// rte_flow on the same port at once. That is allowed: ethdev wraps every
// rte_flow_validate/create/destroy in the port's flow_ops_mutex unless the PMD
// declares itself thread safe (RTE_ETH_DEV_FLOW_OPS_THREAD_SAFE, rte_ethdev.h; DPDK
// 20.11 release notes, "Added thread safety to rte_flow functions"). Rules may be
// made while the port runs and the other queues are polled: that is what rte_flow is
// for. These calls may sleep (net_tap talks netlink to the kernel's TC): they are
// control path only, never reached per packet, but they do hold up the calling
// worker's loop for as long as the device takes, once per participant join or leave.
#include <arpa/inet.h>
#include <rte_errno.h>
#include <rte_flow.h>
#include <rte_log.h>

#include <cstring>
#include <string>

#include "dataplane/dpdk/dpdk_backend.h"
#include "dataplane/dpdk/dpdk_port.h"

namespace mrfp::dataplane {

int dpdk_log_type() {
  static const int type = [] {
    const int registered = rte_log_register_type_and_pick_level("mrfp.dpdk", RTE_LOG_INFO);
    return registered < 0 ? static_cast<int>(RTE_LOGTYPE_USER1) : registered;
  }();
  return type;
}

namespace {

std::uint32_t log_type() { return static_cast<std::uint32_t>(dpdk_log_type()); }

const char* family_name(sa_family_t family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

// rte_flow_error is only filled on failure, and message may be NULL (rte_flow.h).
std::string describe(const char* call, int code, const rte_flow_error& error) {
  std::string text = std::string(call) + ": " + rte_strerror(code < 0 ? -code : code);
  if (error.message != nullptr && *error.message != '\0') text += " (" + std::string(error.message) + ")";
  return text;
}

}  // namespace

void DpdkPort::refuse_flow_steering(sa_family_t family, bool whole_device, const std::string& reason) {
  std::lock_guard lock(flow_refusal_mutex_);
  const bool first = flow_refusal_.empty();
  if (first) flow_refusal_ = reason;
  if (whole_device) {
    flow_refused_[0].store(true, std::memory_order_relaxed);
    flow_refused_[1].store(true, std::memory_order_relaxed);
  } else {
    flow_refused_[family == AF_INET6 ? 1 : 0].store(true, std::memory_order_relaxed);
  }
  // Once per device, clearly: media still flows (through the hand-off), but an
  // operator sizing workers should know the device does not steer.
  if (first) {
    rte_log(RTE_LOG_INFO, log_type(),
            "mrfp: DPDK port %u (%s): no rte_flow steering for %s media ports: %s; frames that land on "
            "another worker's RX queue go through the software hand-off ring instead\n",
            port_id_, name_.c_str(), whole_device ? "any" : family_name(family), reason.c_str());
  }
}

std::string DpdkPort::flow_refusal() const {
  std::lock_guard lock(flow_refusal_mutex_);
  return flow_refusal_;
}

void DpdkBackend::steer_to_this_queue(LocalPort& local) {
  if (port_->flow_steering_refused(local.family)) {
    ++counters_.flow_rules_refused;
    return;
  }
  // ingress: what the port receives (rte_flow.h, struct rte_flow_attr); group 0 and
  // priority 0 are the ones every PMD that has rte_flow accepts.
  rte_flow_attr attr{};
  attr.ingress = 1;

  // Pattern ETH [/ VLAN] / IPV4|IPV6 / UDP, each item with an explicit mask: C++
  // sees none of rte_flow.h's default masks (they are #ifndef __cplusplus).
  // ETH with no spec matches any Ethernet frame; the frame's destination MAC is
  // not ours to judge here (classify does not either).
  rte_flow_item_vlan vlan_spec{}, vlan_mask{};
  rte_flow_item_ipv4 ipv4_spec{}, ipv4_mask{};
  rte_flow_item_ipv6 ipv6_spec{}, ipv6_mask{};
  rte_flow_item_udp udp_spec{}, udp_mask{};
  rte_flow_item pattern[5] = {};
  std::size_t items = 0;
  pattern[items++].type = RTE_FLOW_ITEM_TYPE_ETH;
  if (addressing_.vlan_id) {
    // On a VLAN our frames are tagged: without this item a device matching ETH/IPV4
    // would look for untagged frames only.
    vlan_spec.hdr.vlan_tci = htons(*addressing_.vlan_id);
    vlan_mask.hdr.vlan_tci = htons(0x0FFF);  // the VLAN ID, not the priority bits
    pattern[items].type = RTE_FLOW_ITEM_TYPE_VLAN;
    pattern[items].spec = &vlan_spec;
    pattern[items++].mask = &vlan_mask;
  }
  if (local.family == AF_INET6) {
    std::memcpy(ipv6_spec.hdr.dst_addr, addressing_.ipv6.data(), 16);
    std::memset(ipv6_mask.hdr.dst_addr, 0xFF, 16);
    pattern[items].type = RTE_FLOW_ITEM_TYPE_IPV6;
    pattern[items].spec = &ipv6_spec;
    pattern[items++].mask = &ipv6_mask;
  } else {
    std::memcpy(&ipv4_spec.hdr.dst_addr, addressing_.ipv4.data(), 4);  // both network order
    ipv4_mask.hdr.dst_addr = 0xFFFFFFFF;
    pattern[items].type = RTE_FLOW_ITEM_TYPE_IPV4;
    pattern[items].spec = &ipv4_spec;
    pattern[items++].mask = &ipv4_mask;
  }
  udp_spec.hdr.dst_port = htons(local.port);
  udp_mask.hdr.dst_port = 0xFFFF;
  pattern[items].type = RTE_FLOW_ITEM_TYPE_UDP;
  pattern[items].spec = &udp_spec;
  pattern[items++].mask = &udp_mask;
  pattern[items].type = RTE_FLOW_ITEM_TYPE_END;

  rte_flow_action_queue to_queue{};
  to_queue.index = queue_;
  rte_flow_action actions[2] = {};
  actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
  actions[0].conf = &to_queue;
  actions[1].type = RTE_FLOW_ACTION_TYPE_END;

  const std::string where = "queue " + std::to_string(queue_) + ", " + family_name(local.family) + " UDP port " +
                            std::to_string(local.port);
  // Validate first (rte_flow_validate): a device without rte_flow answers -ENOSYS
  // (no flow_ops at all: net_ring, net_af_packet); one that cannot do this rule
  // -ENOTSUP or -EINVAL. Either way the answer holds for every port of that
  // family, so it is remembered on the port and never asked again.
  rte_flow_error error{};
  if (const int rc = rte_flow_validate(port_id_, &attr, pattern, actions, &error); rc != 0) {
    ++counters_.flow_rules_refused;
    port_->refuse_flow_steering(local.family, rc == -ENOSYS,
                                describe("rte_flow_validate", rc, error) + " [first refused: " + where + "]");
    return;
  }
  error = {};
  rte_flow* flow = rte_flow_create(port_id_, &attr, pattern, actions, &error);
  if (flow == nullptr) {
    // Valid but not made. If no rule of this family was ever made on the device, the
    // device cannot (net_tap validates without asking the kernel, whose TC may lack
    // flower/skbedit): remember it like a refused validate. Otherwise it is this
    // rule (a collision with a rule not yet destroyed, resources): the port falls
    // back alone and the next one tries again.
    ++counters_.flow_rules_refused;
    if (!port_->flow_rule_ever_installed(local.family)) {
      port_->refuse_flow_steering(local.family, false,
                                  describe("rte_flow_create", rte_errno, error) + " [first refused: " + where + "]");
    }
    return;
  }
  port_->note_flow_rule_installed(local.family);
  local.flow = flow;
  ++counters_.flow_rules_installed;
}

void DpdkBackend::stop_steering(LocalPort& local) {
  if (local.flow == nullptr) return;
  rte_flow_error error{};
  if (const int rc = rte_flow_destroy(port_id_, local.flow, &error); rc != 0) {
    // The rule may keep steering the port here; harmless, since whoever opens it
    // next is found in the owner table and handed the frames. Counted and logged.
    ++counters_.flow_rules_destroy_failed;
    rte_log(RTE_LOG_WARNING, log_type(),
            "mrfp: DPDK port %u (%s): queue %u, UDP port %u: %s\n", port_id_, port_->name().c_str(), queue_,
            local.port, describe("rte_flow_destroy", rc, error).c_str());
  }
  local.flow = nullptr;
}

}  // namespace mrfp::dataplane
