#pragma once

// A test double for llama.cpp's llama-server (a real one cannot be installed here), on
// 127.0.0.1 with a free port. It answers like llama-server does (tools/server/README.md):
//   GET  /health       503 {"error":{"code":503,"message":"Loading model",...}} while loading,
//                      200 {"status":"ok"} once ready;
//   POST /models/load  {"model": "<name>"} (router mode): starts loading that model;
//   GET  /models       {"data":[{"id": ..., "status": "loaded"|"loading"}]}.
// Plus one test-only endpoint standing in for a process restart in single-model mode:
//   POST /test/restart reads the model the configured active link points to and loads it.
// Loading takes `setLoadPolls(n)` /health polls; a model marked with failModel() never gets
// ready (503 forever), which is how a bad model looks from outside. Thread-safe.

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace noa::testing {

class LlamaServerDouble {
 public:
  LlamaServerDouble();  // starts loading an unnamed model; finishLoading() makes it ready
  ~LlamaServerDouble();
  LlamaServerDouble(const LlamaServerDouble&) = delete;
  LlamaServerDouble& operator=(const LlamaServerDouble&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void finishLoading();
  // Number of /health polls answered 503 after each load before 200 (default 2).
  void setLoadPolls(int polls);
  // Loading this model never finishes.
  void failModel(const std::string& name);
  // The symlink POST /test/restart reads (its target's file name becomes the model name).
  void setActiveLink(const std::string& path);

  // Every model load requested, in order (router loads and restarts alike).
  std::vector<std::string> loads() const;
  std::string currentModel() const;

 private:
  void startLoading(const std::string& model);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::string model_;
  bool loaded_ = false;
  int load_polls_ = 2;
  int polls_left_ = -1;  // -1: stays loading until finishLoading()
  std::set<std::string> failing_;
  std::string active_link_;
  std::vector<std::string> loads_;
};

}  // namespace noa::testing
