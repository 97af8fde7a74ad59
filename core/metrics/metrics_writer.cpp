#include "core/metrics/metrics_writer.h"

#include <cmath>
#include <cstdio>

namespace edgeflow {
namespace {

void append_escaped(std::string& out, std::string_view text, bool label) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && label) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char text[32];
    // Whole numbers (all counters) print exactly, without an exponent, up to 2^53.
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
        std::snprintf(text, sizeof text, "%.0f", value);
    } else {
        std::snprintf(text, sizeof text, "%.9g", value);
    }
    out += text;
}

}  // namespace

MetricsWriter::Family& MetricsWriter::family(std::string_view name, std::string_view help,
                                             std::string_view type) {
    for (auto& f : families_) {
        if (f.name == name) {
            return f;
        }
    }
    families_.push_back(Family{std::string(name), std::string(help), type, {}});
    return families_.back();
}

void MetricsWriter::append_sample(std::string& out, std::string_view name, Labels labels,
                                  std::string_view extra_name, std::string_view extra_value,
                                  double value) {
    out += name;
    if (labels.size() > 0 || !extra_name.empty()) {
        out += '{';
        bool first = true;
        for (const auto& label : labels) {
            if (!first) {
                out += ',';
            }
            first = false;
            out += label.name;
            out += "=\"";
            append_escaped(out, label.value, true);
            out += '"';
        }
        if (!extra_name.empty()) {
            if (!first) {
                out += ',';
            }
            out += extra_name;
            out += "=\"";
            out += extra_value;
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

void MetricsWriter::counter(std::string_view name, std::string_view help, Labels labels,
                            double value) {
    append_sample(family(name, help, "counter").samples, name, labels, {}, {}, value);
}

void MetricsWriter::gauge(std::string_view name, std::string_view help, Labels labels,
                          double value) {
    append_sample(family(name, help, "gauge").samples, name, labels, {}, {}, value);
}

void MetricsWriter::histogram(std::string_view name, std::string_view help, Labels labels,
                              const LatencyHistogram::Snapshot& snapshot) {
    std::string& out = family(name, help, "histogram").samples;
    const std::string bucket = std::string(name) + "_bucket";
    // Exported bounds are the powers of two from 128 ns to 2^34 ns (about 17 s): each is a
    // bucket boundary, so the cumulative counts are exact.
    constexpr int first = LatencyHistogram::min_exponent + 1;
    constexpr int last = 34;
    std::uint64_t cumulative = 0;
    std::size_t i = 0;
    for (int exponent = first; exponent <= last; ++exponent) {
        const std::uint64_t bound = std::uint64_t{1} << exponent;
        while (i < LatencyHistogram::bucket_count && LatencyHistogram::upper_bound(i) <= bound) {
            cumulative += snapshot.buckets[i++];
        }
        char le[32];
        std::snprintf(le, sizeof le, "%.9g", static_cast<double>(bound) * 1e-9);
        append_sample(out, bucket, labels, "le", le, static_cast<double>(cumulative));
    }
    append_sample(out, bucket, labels, "le", "+Inf", static_cast<double>(snapshot.count));
    append_sample(out, std::string(name) + "_sum", labels, {}, {},
                  static_cast<double>(snapshot.sum_ns) * 1e-9);
    append_sample(out, std::string(name) + "_count", labels, {}, {},
                  static_cast<double>(snapshot.count));
}

std::string MetricsWriter::text() const {
    std::string out;
    for (const auto& f : families_) {
        out += "# HELP ";
        out += f.name;
        out += ' ';
        append_escaped(out, f.help, false);
        out += "\n# TYPE ";
        out += f.name;
        out += ' ';
        out += f.type;
        out += '\n';
        out += f.samples;
    }
    return out;
}

}  // namespace edgeflow
