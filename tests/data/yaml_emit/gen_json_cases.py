import json, sys
sys.path.insert(0,'/tmp/ye')
from strs import run
strings = json.load(open('v1.json')) + json.load(open('v2.json')) + [
 "\ufeffb","\ufeff\u00e9x","\ufeff\ufeff","\ufeffa b","\ufeff\nx","\u0007abc","\U0001F680abc","\u0085abc","\t abc",
 "1:60","1:59","-1:20","+1:2:3.5_","1_0:20","1:20:","a1:20","1:2.","yEs","oN","Off","ON","<","x: ","a - b","a -b","- ","a\u00a0","\u00a0a","a\u3000","\u3000",
 "Gr\u00fc\u00dfe, \u4e16\u754c! \U0001F680", "ENC[AES256_GCM,data:abc=,iv:x/y+z=,tag:q==,type:str]", "x\n\n", "a\u2029b", "\u2028x\ny", "k'q\u2028r",
 "line1\nline2\n", "  two\nlines\n", "\n\nx\n", "x"*300, "long line with many words " * 20]
cases = []
# values
obj = {}
for i, s in enumerate(strings): obj["k%03d" % i] = s
cases.append({"indent": None, "input": obj})
# keys
obj = {}
for i, s in enumerate(strings):
    if s in obj: continue
    obj[s] = i
cases.append({"indent": None, "input": obj})
# seq items and nested
cases.append({"indent": None, "input": {"l": strings[:60], "m": {"n": {"o": strings[40:80]}}}})
cases.append({"indent": None, "input": {"l": [{"a": 1, "b": [1, {"c": "x\ny"}, [], {}, [[1, 2], ["z\n"]]]}, None, True, False, 1.5, 1e21, 3e-05, -0.0, 12345678901234567890, 0.1, 100, [], {}], "e": {}, "f": [], "g": None}})
nested = {"m": {"a": [1, {"b": [{"c": "x\ny"}]}], "n": {"o": {"p": " x\ny"}}, "q": [["a", ["b", {"c": {"d": [" s\nt", "é\n"]}}]]]}}
for ind in [None, 2, 3, 1, 10, 9, 5]:
    cases.append({"indent": ind, "input": nested})
for c in cases:
    c["output"] = run(c["input"], indent=c["indent"])
    assert "FAIL" not in c["output"][:10], c["output"]
json.dump(cases, open('/work/wt-yamlemit/tests/data/yaml_emit/json_cases.json','w'), ensure_ascii=True, indent=1)
print(len(cases))
