"""The molecules ``synth chemistry`` draws: a bundled table of common named molecules (English,
Chinese, SMILES; every SMILES is checked by RDKit in the tests) and substituted scaffolds
generated from it (a benzene with groups at named positions), which carry no trivial name: they are
described from their structure instead, since a wrong systematic name is worse than none."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem


@dataclass(frozen=True)
class Named:
    en: str
    zh: str
    smiles: str


_TABLE = """
methane|甲烷|C
ethane|乙烷|CC
propane|丙烷|CCC
butane|丁烷|CCCC
isobutane|异丁烷|CC(C)C
pentane|戊烷|CCCCC
hexane|己烷|CCCCCC
heptane|庚烷|CCCCCCC
octane|辛烷|CCCCCCCC
neopentane|新戊烷|CC(C)(C)C
ethylene|乙烯|C=C
propene|丙烯|CC=C
1-butene|1-丁烯|CCC=C
isobutylene|异丁烯|CC(C)=C
1,3-butadiene|1,3-丁二烯|C=CC=C
isoprene|异戊二烯|CC(=C)C=C
acetylene|乙炔|C#C
propyne|丙炔|CC#C
cyclopropane|环丙烷|C1CC1
cyclobutane|环丁烷|C1CCC1
cyclopentane|环戊烷|C1CCCC1
cyclohexane|环己烷|C1CCCCC1
cyclohexene|环己烯|C1CCC=CC1
methylcyclohexane|甲基环己烷|CC1CCCCC1
benzene|苯|c1ccccc1
toluene|甲苯|Cc1ccccc1
ethylbenzene|乙苯|CCc1ccccc1
styrene|苯乙烯|C=Cc1ccccc1
o-xylene|邻二甲苯|Cc1ccccc1C
m-xylene|间二甲苯|Cc1cccc(C)c1
p-xylene|对二甲苯|Cc1ccc(C)cc1
cumene|异丙苯|CC(C)c1ccccc1
naphthalene|萘|c1ccc2ccccc2c1
anthracene|蒽|c1ccc2cc3ccccc3cc2c1
phenanthrene|菲|c1ccc2c(c1)ccc1ccccc12
biphenyl|联苯|c1ccc(-c2ccccc2)cc1
methanol|甲醇|CO
ethanol|乙醇|CCO
1-propanol|正丙醇|CCCO
2-propanol|异丙醇|CC(C)O
1-butanol|正丁醇|CCCCO
tert-butanol|叔丁醇|CC(C)(C)O
ethylene glycol|乙二醇|OCCO
glycerol|甘油|OCC(O)CO
cyclohexanol|环己醇|OC1CCCCC1
benzyl alcohol|苯甲醇|OCc1ccccc1
phenol|苯酚|Oc1ccccc1
catechol|邻苯二酚|Oc1ccccc1O
resorcinol|间苯二酚|Oc1cccc(O)c1
hydroquinone|对苯二酚|Oc1ccc(O)cc1
p-cresol|对甲酚|Cc1ccc(O)cc1
dimethyl ether|二甲醚|COC
diethyl ether|乙醚|CCOCC
anisole|苯甲醚|COc1ccccc1
tetrahydrofuran|四氢呋喃|C1CCOC1
1,4-dioxane|1,4-二氧六环|C1COCCO1
ethylene oxide|环氧乙烷|C1CO1
formaldehyde|甲醛|C=O
acetaldehyde|乙醛|CC=O
propanal|丙醛|CCC=O
benzaldehyde|苯甲醛|O=Cc1ccccc1
cinnamaldehyde|肉桂醛|O=C/C=C/c1ccccc1
vanillin|香草醛|COc1cc(C=O)ccc1O
acetone|丙酮|CC(C)=O
butanone|丁酮|CCC(C)=O
cyclohexanone|环己酮|O=C1CCCCC1
acetophenone|苯乙酮|CC(=O)c1ccccc1
benzophenone|二苯甲酮|O=C(c1ccccc1)c1ccccc1
formic acid|甲酸|OC=O
acetic acid|乙酸|CC(=O)O
propanoic acid|丙酸|CCC(=O)O
butanoic acid|丁酸|CCCC(=O)O
acrylic acid|丙烯酸|C=CC(=O)O
oxalic acid|草酸|OC(=O)C(=O)O
malonic acid|丙二酸|OC(=O)CC(=O)O
succinic acid|丁二酸|OC(=O)CCC(=O)O
benzoic acid|苯甲酸|OC(=O)c1ccccc1
salicylic acid|水杨酸|OC(=O)c1ccccc1O
terephthalic acid|对苯二甲酸|OC(=O)c1ccc(C(=O)O)cc1
citric acid|柠檬酸|OC(=O)CC(O)(CC(=O)O)C(=O)O
pyruvic acid|丙酮酸|CC(=O)C(=O)O
stearic acid|硬脂酸|CCCCCCCCCCCCCCCCCC(=O)O
methyl acetate|乙酸甲酯|COC(C)=O
ethyl acetate|乙酸乙酯|CCOC(C)=O
methyl benzoate|苯甲酸甲酯|COC(=O)c1ccccc1
methyl salicylate|水杨酸甲酯|COC(=O)c1ccccc1O
acetic anhydride|乙酸酐|CC(=O)OC(C)=O
acetyl chloride|乙酰氯|CC(=O)Cl
methylamine|甲胺|CN
ethylamine|乙胺|CCN
dimethylamine|二甲胺|CNC
trimethylamine|三甲胺|CN(C)C
aniline|苯胺|Nc1ccccc1
N,N-dimethylaniline|N,N-二甲基苯胺|CN(C)c1ccccc1
ethylenediamine|乙二胺|NCCN
acetamide|乙酰胺|CC(N)=O
urea|尿素|NC(N)=O
N,N-dimethylformamide|N,N-二甲基甲酰胺|CN(C)C=O
acetanilide|乙酰苯胺|CC(=O)Nc1ccccc1
acetonitrile|乙腈|CC#N
benzonitrile|苯甲腈|N#Cc1ccccc1
acrylonitrile|丙烯腈|C=CC#N
nitromethane|硝基甲烷|C[N+](=O)[O-]
nitrobenzene|硝基苯|O=[N+]([O-])c1ccccc1
2,4,6-trinitrotoluene|2,4,6-三硝基甲苯|Cc1c([N+](=O)[O-])cc([N+](=O)[O-])cc1[N+](=O)[O-]
chloromethane|一氯甲烷|CCl
dichloromethane|二氯甲烷|ClCCl
chloroform|三氯甲烷|ClC(Cl)Cl
carbon tetrachloride|四氯化碳|ClC(Cl)(Cl)Cl
chloroethane|氯乙烷|CCCl
bromoethane|溴乙烷|CCBr
vinyl chloride|氯乙烯|C=CCl
1,2-dichloroethane|1,2-二氯乙烷|ClCCCl
fluorobenzene|氟苯|Fc1ccccc1
chlorobenzene|氯苯|Clc1ccccc1
bromobenzene|溴苯|Brc1ccccc1
benzyl chloride|氯化苄|ClCc1ccccc1
tetrafluoroethylene|四氟乙烯|FC(F)=C(F)F
pyridine|吡啶|c1ccncc1
pyrrole|吡咯|c1cc[nH]c1
furan|呋喃|c1ccoc1
thiophene|噻吩|c1ccsc1
imidazole|咪唑|c1c[nH]cn1
pyrimidine|嘧啶|c1cncnc1
pyrazine|吡嗪|c1cnccn1
indole|吲哚|c1ccc2[nH]ccc2c1
quinoline|喹啉|c1ccc2ncccc2c1
piperidine|哌啶|C1CCNCC1
morpholine|吗啉|C1COCCN1
pyrrolidine|吡咯烷|C1CCNC1
purine|嘌呤|c1ncc2[nH]cnc2n1
glycine|甘氨酸|NCC(=O)O
L-alanine|L-丙氨酸|C[C@H](N)C(=O)O
L-serine|L-丝氨酸|N[C@@H](CO)C(=O)O
L-cysteine|L-半胱氨酸|N[C@@H](CS)C(=O)O
L-valine|L-缬氨酸|CC(C)[C@H](N)C(=O)O
L-leucine|L-亮氨酸|CC(C)C[C@H](N)C(=O)O
L-phenylalanine|L-苯丙氨酸|N[C@@H](Cc1ccccc1)C(=O)O
L-proline|L-脯氨酸|OC(=O)[C@@H]1CCCN1
L-aspartic acid|L-天冬氨酸|N[C@@H](CC(=O)O)C(=O)O
L-glutamic acid|L-谷氨酸|N[C@@H](CCC(=O)O)C(=O)O
L-lysine|L-赖氨酸|NCCCC[C@H](N)C(=O)O
L-tyrosine|L-酪氨酸|N[C@@H](Cc1ccc(O)cc1)C(=O)O
L-lactic acid|L-乳酸|C[C@H](O)C(=O)O
(R)-2-butanol|(R)-2-丁醇|CC[C@@H](C)O
(S)-2-butanol|(S)-2-丁醇|CC[C@H](C)O
(R)-glyceraldehyde|(R)-甘油醛|O=C[C@H](O)CO
(S)-ibuprofen|(S)-布洛芬|CC(C)Cc1ccc([C@H](C)C(=O)O)cc1
(R)-carvone|(R)-香芹酮|CC(=C)[C@@H]1CC=C(C)C(=O)C1
(S)-naproxen|(S)-萘普生|COc1ccc2cc([C@H](C)C(=O)O)ccc2c1
glucose|葡萄糖|OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O
fructose|果糖|OC[C@H]1OC(O)(CO)[C@@H](O)[C@@H]1O
ribose|核糖|OC[C@H]1OC(O)[C@H](O)[C@@H]1O
aspirin|阿司匹林|CC(=O)Oc1ccccc1C(=O)O
paracetamol|对乙酰氨基酚|CC(=O)Nc1ccc(O)cc1
ibuprofen|布洛芬|CC(C)Cc1ccc(C(C)C(=O)O)cc1
caffeine|咖啡因|Cn1c(=O)c2c(ncn2C)n(C)c1=O
theobromine|可可碱|Cn1cnc2c1c(=O)[nH]c(=O)n2C
nicotine|尼古丁|CN1CCC[C@H]1c1cccnc1
benzocaine|苯佐卡因|CCOC(=O)c1ccc(N)cc1
phenacetin|非那西丁|CCOc1ccc(NC(C)=O)cc1
sulfanilamide|磺胺|Nc1ccc(S(N)(=O)=O)cc1
dopamine|多巴胺|NCCc1ccc(O)c(O)c1
serotonin|血清素|NCCc1c[nH]c2ccc(O)cc12
histamine|组胺|NCCc1c[nH]cn1
adrenaline|肾上腺素|CNC[C@H](O)c1ccc(O)c(O)c1
ascorbic acid|抗坏血酸|OC[C@H](O)[C@H]1OC(=O)C(O)=C1O
menthol|薄荷醇|CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O
camphor|樟脑|CC1(C)C2CCC1(C)C(=O)C2
limonene|柠檬烯|CC1=CCC(C(C)=C)CC1
eugenol|丁香酚|C=CCc1ccc(O)c(OC)c1
thymol|百里香酚|Cc1ccc(C(C)C)c(O)c1
coumarin|香豆素|O=c1ccc2ccccc2o1
uracil|尿嘧啶|O=c1cc[nH]c(=O)[nH]1
thymine|胸腺嘧啶|Cc1c[nH]c(=O)[nH]c1=O
cytosine|胞嘧啶|Nc1cc[nH]c(=O)n1
adenine|腺嘌呤|Nc1ncnc2[nH]cnc12
guanine|鸟嘌呤|Nc1nc2[nH]cnc2c(=O)[nH]1
nicotinamide|烟酰胺|NC(=O)c1cccnc1
benzoquinone|对苯醌|O=C1C=CC(=O)C=C1
phthalic anhydride|邻苯二甲酸酐|O=C1OC(=O)c2ccccc21
maleic anhydride|马来酸酐|O=C1C=CC(=O)O1
caprolactam|己内酰胺|O=C1CCCCCN1
dimethyl sulfoxide|二甲基亚砜|CS(C)=O
methanethiol|甲硫醇|CS
thiophenol|苯硫酚|Sc1ccccc1
triphenylphosphine|三苯基膦|c1ccc(P(c2ccccc2)c2ccccc2)cc1
bisphenol A|双酚A|CC(C)(c1ccc(O)cc1)c1ccc(O)cc1
salicylaldehyde|水杨醛|O=Cc1ccccc1O
4-nitrophenol|4-硝基苯酚|O=[N+]([O-])c1ccc(O)cc1
4-aminobenzoic acid|对氨基苯甲酸|Nc1ccc(C(=O)O)cc1
picric acid|苦味酸|O=[N+]([O-])c1cc([N+](=O)[O-])c(O)c([N+](=O)[O-])c1
"""

NAMED: tuple[Named, ...] = tuple(
    Named(*line.split("|")) for line in _TABLE.strip().splitlines() if line.strip()
)

#: Substituents put on scaffolds: SMILES fragment (attached by its first atom), English, Chinese.
GROUPS: dict[str, tuple[str, str, str]] = {
    "F": ("F", "fluoro", "氟"),
    "Cl": ("Cl", "chloro", "氯"),
    "Br": ("Br", "bromo", "溴"),
    "OH": ("O", "hydroxy", "羟基"),
    "NH2": ("N", "amino", "氨基"),
    "CH3": ("C", "methyl", "甲基"),
    "NO2": ("[N+](=O)[O-]", "nitro", "硝基"),
    "COOH": ("C(=O)O", "carboxyl", "羧基"),
    "CHO": ("C=O", "formyl", "醛基"),
    "CN": ("C#N", "cyano", "氰基"),
    "OCH3": ("OC", "methoxy", "甲氧基"),
}

#: Scaffolds with their substitutable positions: SMILES with ``{}`` at each numbered position.
SCAFFOLDS: dict[str, tuple[str, str, str]] = {
    # name: (template over positions 1.., English, Chinese)
    "benzene": ("c1({1})c({2})c({3})c({4})c({5})c1{6}", "benzene ring", "苯环"),
    "pyridine": ("n1c({2})c({3})c({4})c({5})c1{6}", "pyridine ring", "吡啶环"),
    "cyclohexane": ("C1({1})C({2})C({3})C({4})C({5})C1{6}", "cyclohexane ring", "环己烷环"),
    "naphthalene": ("c1({1})c({2})c({3})c({4})c2ccccc12", "naphthalene", "萘"),
}

#: Position patterns for two groups on a benzene: ortho, meta, para (positions 1 and k).
RELATIONS = {"ortho": 2, "meta": 3, "para": 4}
RELATIONS_ZH = {"ortho": "邻位", "meta": "间位", "para": "对位"}


def substituted(scaffold: str, at: dict[int, str]) -> str:
    """SMILES of a scaffold with groups (keys of GROUPS) at positions; other positions are H."""
    smiles = SCAFFOLDS[scaffold][0]
    for i in range(1, 7):
        g = at.get(i)
        smiles = smiles.replace("{" + str(i) + "}", GROUPS[g][0] if g else "")
    return smiles.replace("()", "")


@lru_cache(maxsize=1)
def canonical_names() -> dict[str, Named]:
    """Named molecules by canonical SMILES (stereo kept), to name a generated or edited one."""
    out = {}
    for m in NAMED:
        mol = Chem.MolFromSmiles(m.smiles)
        if mol is not None:
            out.setdefault(Chem.MolToSmiles(mol), m)
    return out


def name_of(mol: Chem.Mol) -> Named | None:
    return canonical_names().get(Chem.MolToSmiles(mol))
