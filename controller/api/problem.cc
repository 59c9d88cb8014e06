#include "controller/api/problem.h"

namespace noa::controller::api {

std::string_view statusTitle(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

nlohmann::json problemJson(int status, std::string_view detail) {
  return {{"type", "about:blank"},
          {"title", statusTitle(status)},
          {"status", status},
          {"detail", detail}};
}

ApiResponse problem(int status, std::string_view detail) {
  ApiResponse res = jsonResponse(status, problemJson(status, detail));
  res.content_type = kProblemContentType;
  return res;
}

ApiResponse badParameter(std::string_view parameter, std::string_view detail) {
  nlohmann::json body = problemJson(400, detail);
  body["parameter"] = parameter;
  ApiResponse res = jsonResponse(400, body);
  res.content_type = kProblemContentType;
  return res;
}

ApiResponse badField(std::string_view field, std::string_view detail) {
  nlohmann::json body = problemJson(400, detail);
  body["field"] = field;
  ApiResponse res = jsonResponse(400, body);
  res.content_type = kProblemContentType;
  return res;
}

ApiResponse problemFromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return problem(400, status.message());
    case StatusCode::kNotFound:
      return problem(404, status.message());
    case StatusCode::kUnavailable:
    case StatusCode::kIoError:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
      return problem(503, status.toString());
    default:
      return problem(500, status.toString());
  }
}

std::string_view rejectReason(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 429:
      return "rate_limited";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "timeout";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 431:
      return "headers_too_large";
    default:
      return "client_error";
  }
}

}  // namespace noa::controller::api
