#include "core/record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace edgeflow {
namespace {

// {"name":"dev-1","meta":{"site":7,"b.c":"dotted"},"list":[1,2.5,{"ok":true},"x"],
//  "none":null,"big":18446744073709551615}
void build_sample(Record& record) {
    const auto root = record.open_object({});
    record.add_string("name", "dev-1");
    const auto meta = record.open_object("meta");
    record.add_int64("site", 7);
    record.add_string("b.c", "dotted");
    record.close(meta);
    const auto list = record.open_array("list");
    record.add_int64("ignored", 1);  // keys of array elements are dropped
    record.add_double({}, 2.5);
    const auto item = record.open_object({});
    record.add_bool("ok", true);
    record.close(item);
    record.add_string({}, "x");
    record.close(list);
    record.add_null("none");
    record.add_uint64("big", std::numeric_limits<std::uint64_t>::max());
    record.close(root);
}

std::vector<std::string> keys(ValueRef object) {
    std::vector<std::string> out;
    for (ValueRef child : object) {
        out.emplace_back(child.key());
    }
    return out;
}

TEST(Record, StartsEmpty) {
    Record record;
    EXPECT_TRUE(record.empty());
    EXPECT_EQ(record.node_count(), 0u);
    EXPECT_FALSE(record.root().valid());
}

TEST(Record, IteratesDirectChildrenSkippingSubtrees) {
    Record record;
    build_sample(record);
    const ValueRef root = record.root();
    ASSERT_TRUE(root.valid());
    EXPECT_EQ(root.type(), ValueType::object);
    EXPECT_EQ(root.size(), 5u);
    EXPECT_EQ(keys(root), (std::vector<std::string>{"name", "meta", "list", "none", "big"}));
    EXPECT_EQ(keys(root.member("meta")), (std::vector<std::string>{"site", "b.c"}));
    EXPECT_EQ(record.node_count(), 13u);
}

TEST(Record, ReadsScalarsOfEveryType) {
    Record record;
    build_sample(record);
    const ValueRef root = record.root();
    EXPECT_EQ(root.member("name").type(), ValueType::string);
    EXPECT_EQ(root.member("name").as_string(), "dev-1");
    EXPECT_EQ(root.member("meta").member("site").as_int64(), 7);
    EXPECT_EQ(root.member("meta").member("b.c").as_string(), "dotted");
    EXPECT_EQ(root.member("none").type(), ValueType::null);
    EXPECT_EQ(root.member("big").type(), ValueType::uint64);
    EXPECT_EQ(root.member("big").as_uint64(), std::numeric_limits<std::uint64_t>::max());
}

TEST(Record, ElementIndexesArrays) {
    Record record;
    build_sample(record);
    const ValueRef list = record.root().member("list");
    ASSERT_EQ(list.type(), ValueType::array);
    EXPECT_EQ(list.size(), 4u);
    EXPECT_EQ(list.element(0).as_int64(), 1);
    EXPECT_EQ(list.element(0).key(), "");
    EXPECT_EQ(list.element(1).as_double(), 2.5);
    EXPECT_TRUE(list.element(2).member("ok").as_bool());
    EXPECT_EQ(list.element(3).as_string(), "x");
    EXPECT_FALSE(list.element(4).valid());
}

TEST(Record, MemberAndElementOnTheWrongTypeAreInvalid) {
    Record record;
    build_sample(record);
    const ValueRef root = record.root();
    EXPECT_FALSE(root.member("missing").valid());
    EXPECT_FALSE(root.element(0).valid());
    EXPECT_FALSE(root.member("list").member("0").valid());
    EXPECT_FALSE(root.member("name").member("x").valid());
    EXPECT_FALSE(ValueRef().member("x").valid());
    EXPECT_FALSE(ValueRef().element(0).valid());
}

TEST(Record, ScalarsHaveNoChildren) {
    Record record;
    build_sample(record);
    const ValueRef name = record.root().member("name");
    EXPECT_EQ(name.size(), 0u);
    EXPECT_TRUE(name.begin() == name.end());
}

TEST(Record, AsDoubleConvertsIntegers) {
    Record record;
    const auto root = record.open_array({});
    record.add_int64({}, -3);
    record.add_uint64({}, 10);
    record.add_double({}, 0.5);
    record.add_string({}, "7");
    record.close(root);
    EXPECT_EQ(record.root().element(0).as_double(), -3.0);
    EXPECT_EQ(record.root().element(1).as_double(), 10.0);
    EXPECT_EQ(record.root().element(2).as_double(), 0.5);
    EXPECT_EQ(record.root().element(3).as_double(), 0.0);
}

TEST(Record, MemberFindsTheFirstOfDuplicateKeys) {
    Record record;
    const auto root = record.open_object({});
    record.add_int64("k", 1);
    record.add_int64("k", 2);
    record.close(root);
    EXPECT_EQ(record.root().member("k").as_int64(), 1);
}

TEST(Record, ScalarRoot) {
    Record record;
    record.add_int64({}, 42);
    ASSERT_TRUE(record.root().valid());
    EXPECT_EQ(record.root().type(), ValueType::int64);
    EXPECT_EQ(record.root().as_int64(), 42);
}

TEST(Record, ClearForgetsTheDocumentAndAllowsReuse) {
    Record record;
    build_sample(record);
    record.clear();
    EXPECT_TRUE(record.empty());
    EXPECT_FALSE(record.root().valid());

    const auto root = record.open_object({});
    record.add_string("other", "value");
    record.close(root);
    EXPECT_EQ(record.node_count(), 2u);
    EXPECT_EQ(keys(record.root()), std::vector<std::string>{"other"});
    EXPECT_EQ(record.root().member("other").as_string(), "value");
    EXPECT_FALSE(record.root().member("name").valid());

    // And again, with the sample: nothing of the previous document shows through.
    record.clear();
    build_sample(record);
    EXPECT_EQ(record.root().member("name").as_string(), "dev-1");
    EXPECT_FALSE(record.root().member("other").valid());
}

TEST(Record, ShrinkIfLargerKeepsTheDocumentUsable) {
    Record record;
    build_sample(record);
    record.clear();
    record.shrink_if_larger(0);
    build_sample(record);
    EXPECT_EQ(record.root().member("list").element(3).as_string(), "x");
}

TEST(Record, TypeNames) {
    EXPECT_EQ(to_string(ValueType::null), "null");
    EXPECT_EQ(to_string(ValueType::boolean), "bool");
    EXPECT_EQ(to_string(ValueType::int64), "int");
    EXPECT_EQ(to_string(ValueType::uint64), "uint");
    EXPECT_EQ(to_string(ValueType::float64), "float");
    EXPECT_EQ(to_string(ValueType::string), "string");
    EXPECT_EQ(to_string(ValueType::array), "array");
    EXPECT_EQ(to_string(ValueType::object), "object");
}

// Block copies: a run of members (with their subtrees and strings) lands in another record,
// between nodes built one by one, and reads back exactly.
TEST(Record, AppendNodesCopiesRunsOfSubtrees) {
    Record src;
    build_sample(src);
    const ValueRef root = src.root();
    const ValueRef meta = root.member("meta");
    const ValueRef none = root.member("none");

    Record out;
    const auto top = out.open_object({});
    out.add_string("first", "built");
    // name, meta and list: three siblings, one of them an array with an object inside.
    out.append_nodes(src, root.member("name").index(), none.index());
    out.add_int64("middle", 5);
    out.append_nodes(src, none.index(), src.node(root.index()).end);  // none, big
    const auto copy_of_meta = out.open_object("meta2");
    out.append_nodes(src, meta.index() + 1, src.node(meta.index()).end);
    out.close(copy_of_meta);
    const auto elements = out.open_array("list2");
    const ValueRef list = root.member("list");
    out.append_nodes(src, list.index() + 1, src.node(list.index()).end);
    out.close(elements);
    out.close(top);

    const ValueRef r = out.root();
    EXPECT_EQ(keys(r), (std::vector<std::string>{"first", "name", "meta", "list", "middle", "none",
                                                 "big", "meta2", "list2"}));
    EXPECT_EQ(r.member("first").as_string(), "built");
    EXPECT_EQ(r.member("name").as_string(), "dev-1");
    EXPECT_EQ(r.member("meta").member("b.c").as_string(), "dotted");
    EXPECT_EQ(r.member("meta").member("site").as_int64(), 7);
    EXPECT_EQ(r.member("list").size(), 4u);
    EXPECT_TRUE(r.member("list").element(2).member("ok").as_bool());
    EXPECT_EQ(r.member("list").element(3).as_string(), "x");
    EXPECT_EQ(r.member("middle").as_int64(), 5);
    EXPECT_EQ(r.member("none").type(), ValueType::null);
    EXPECT_EQ(r.member("big").as_uint64(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(keys(r.member("meta2")), (std::vector<std::string>{"site", "b.c"}));
    EXPECT_EQ(r.member("meta2").member("b.c").as_string(), "dotted");
    EXPECT_EQ(r.member("list2").size(), 4u);
    EXPECT_DOUBLE_EQ(r.member("list2").element(1).as_double(), 2.5);
    EXPECT_EQ(r.member("list2").element(3).as_string(), "x");
    EXPECT_EQ(r.size(), 9u);
    out.append_nodes(src, 3, 3);  // an empty run changes nothing
    EXPECT_EQ(out.root().size(), 9u);
}

}  // namespace
}  // namespace edgeflow
