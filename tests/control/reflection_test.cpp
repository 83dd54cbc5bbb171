// Server reflection is on, so grpcurl can list and describe the Mp service.
// Spoken here with a generic stub and hand-encoded requests, because the
// reflection protos' generated C++ is not installed on Debian.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "test_server.h"

namespace mrfp::control::testing {
namespace {

class ReflectionTest : public ControlServerTest {
 protected:
  // One ServerReflectionRequest in, the first ServerReflectionResponse's bytes out.
  std::string ask(const std::string& request_bytes) {
    grpc::GenericStub generic(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::CompletionQueue queue;
    grpc::ClientContext call_context;
    call_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto call = generic.PrepareCall(&call_context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                    &queue);
    auto step = [&](std::intptr_t tag) {
      void* got = nullptr;
      bool ok = false;
      EXPECT_TRUE(queue.Next(&got, &ok));
      EXPECT_EQ(reinterpret_cast<std::intptr_t>(got), tag);
      return ok;
    };
    call->StartCall(reinterpret_cast<void*>(1));
    EXPECT_TRUE(step(1));
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer request(&slice, 1);
    call->Write(request, reinterpret_cast<void*>(2));
    EXPECT_TRUE(step(2));
    call->WritesDone(reinterpret_cast<void*>(3));
    EXPECT_TRUE(step(3));
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(4));
    const bool read = step(4);
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    EXPECT_TRUE(step(5));
    EXPECT_TRUE(status.ok()) << status.error_message();
    queue.Shutdown();
    void* ignored_tag;
    bool ignored_ok;
    while (queue.Next(&ignored_tag, &ignored_ok)) {
    }
    if (!read) return {};
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(response.Dump(&slices).ok());
    std::string bytes;
    for (const auto& piece : slices) bytes.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
    return bytes;
  }

  // A length-delimited protobuf string field (lengths under 128 here).
  static std::string string_field(int number, const std::string& value) {
    return std::string(1, static_cast<char>(number << 3 | 2)) + static_cast<char>(value.size()) + value;
  }
};

TEST_F(ReflectionTest, ListsTheMpService) {
  const std::string reply = ask(string_field(7, ""));  // list_services
  EXPECT_NE(reply.find("mrfp.mp.v1.Mp"), std::string::npos);
}

TEST_F(ReflectionTest, DescribesTheMpService) {
  const std::string reply = ask(string_field(4, "mrfp.mp.v1.Mp"));  // file_containing_symbol
  EXPECT_NE(reply.find("mp.proto"), std::string::npos);
  EXPECT_NE(reply.find("CreateConference"), std::string::npos);
  EXPECT_NE(reply.find("WatchEvents"), std::string::npos);
}

}  // namespace
}  // namespace mrfp::control::testing
