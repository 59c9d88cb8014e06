#include "tests/testing/servers/llama_double.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace noa::testing {

using nlohmann::json;

LlamaServerDouble::LlamaServerDouble() {
  server_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!loaded_ && polls_left_ == 0 && !failing_.count(model_)) loaded_ = true;
    if (!loaded_ && polls_left_ > 0) polls_left_--;
    if (loaded_) {
      res.set_content(R"({"status":"ok"})", "application/json");
    } else {
      res.status = 503;
      res.set_content(
          R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})",
          "application/json");
    }
  });
  server_.Post("/models/load", [this](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("model") || !body["model"].is_string()) {
      res.status = 400;
      res.set_content(R"({"error":{"code":400,"message":"model is required"}})",
                      "application/json");
      return;
    }
    startLoading(body["model"].get<std::string>());
    res.set_content(R"({"success":true})", "application/json");
  });
  server_.Get("/models", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    json data = json::array();
    if (!model_.empty()) {
      data.push_back({{"id", model_}, {"status", {{"value", loaded_ ? "loaded" : "loading"}}}});
    }
    res.set_content(json{{"data", data}}.dump(), "application/json");
  });
  server_.Post("/test/restart", [this](const httplib::Request&, httplib::Response& res) {
    std::string link;
    {
      std::lock_guard<std::mutex> lock(mu_);
      link = active_link_;
    }
    std::error_code ec;
    std::string model = std::filesystem::read_symlink(link, ec).filename().string();
    if (ec) {
      res.status = 500;
      res.set_content("cannot read " + link + ": " + ec.message(), "text/plain");
      return;
    }
    startLoading(model);
    res.set_content("restarted with " + model, "text/plain");
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // stop() before the accept loop runs would hang in this cpp-httplib version.
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

LlamaServerDouble::~LlamaServerDouble() {
  server_.stop();
  thread_.join();
}

void LlamaServerDouble::startLoading(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  model_ = model;
  loaded_ = false;
  polls_left_ = load_polls_;
  loads_.push_back(model);
}

void LlamaServerDouble::finishLoading() {
  std::lock_guard<std::mutex> lock(mu_);
  loaded_ = true;
}

void LlamaServerDouble::setLoadPolls(int polls) {
  std::lock_guard<std::mutex> lock(mu_);
  load_polls_ = polls;
}

void LlamaServerDouble::failModel(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  failing_.insert(name);
}

void LlamaServerDouble::setActiveLink(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  active_link_ = path;
}

std::vector<std::string> LlamaServerDouble::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

std::string LlamaServerDouble::currentModel() const {
  std::lock_guard<std::mutex> lock(mu_);
  return model_;
}

}  // namespace noa::testing
