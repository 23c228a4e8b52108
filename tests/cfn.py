"""The SAM template as CloudFormation would deploy it: transformed by SAM's own translator (as
`sam deploy` does), then with parameters and conditions resolved, so tests can ask what one
choice of parameters creates."""

import copy
import os

import yaml
from samtranslator.translator.transform import transform

from harness import ROOT


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref" if name == "Ref" else f"Fn::{name}": value}

    return construct


for _name in ["Ref", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join", "Select", "Split", "FindInMap", "Base64", "GetAZs", "ImportValue", "Condition", "Contains"]:
    _CfnLoader.add_constructor(f"!{_name}", _tag(_name))


def template():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)


class _NoPolicies:
    def load(self):
        return {}


def deployed(**params):
    """Resources CloudFormation would create for these parameter values (the rest default)."""
    raw = template()
    for res in raw["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://bucket/code.zip"  # as `sam package` leaves it
    values = {k: str(v["Default"]) for k, v in raw["Parameters"].items() if "Default" in v}
    values.update({k: str(v) for k, v in params.items()})
    values.setdefault("AWS::Region", "eu-west-1")
    values.setdefault("AWS::AccountId", "123456789012")
    values.setdefault("AWS::Partition", "aws")
    values.setdefault("AWS::StackName", "verify-proxy")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    out = transform(copy.deepcopy(raw), values, _NoPolicies())
    conditions = {}
    for name, expr in out.get("Conditions", {}).items():
        conditions[name] = _evaluate(expr, values, conditions)
    resources = {
        name: res for name, res in out["Resources"].items() if "Condition" not in res or conditions[res["Condition"]]
    }
    return _resolve(resources, values, conditions)


def _evaluate(expr, values, conditions):
    if isinstance(expr, dict):
        (key, arg), = expr.items()
        if key == "Fn::Equals":
            a, b = (_evaluate(x, values, conditions) for x in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not _evaluate(arg[0], values, conditions)
        if key == "Fn::And":
            return all(_evaluate(x, values, conditions) for x in arg)
        if key == "Fn::Or":
            return any(_evaluate(x, values, conditions) for x in arg)
        if key == "Condition":
            return conditions[arg]
        if key == "Ref":
            return values.get(arg, arg)
    return expr


NO_VALUE = object()


def _resolve(node, values, conditions):
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::If" in node:
            cond, yes, no = node["Fn::If"]
            return _resolve(yes if conditions[cond] else no, values, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        if len(node) == 1 and "Ref" in node and node["Ref"] in values:
            return values[node["Ref"]]
        out = {}
        for k, v in node.items():
            r = _resolve(v, values, conditions)
            if r is not NO_VALUE:
                out[k] = r
        return out
    if isinstance(node, list):
        return [r for r in (_resolve(x, values, conditions) for x in node) if r is not NO_VALUE]
    return node
