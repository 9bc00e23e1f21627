"""Postgres full-text search as the knowledge retriever, for comparison with the BM25 index
Deskhand ships (docs/knowledge.md). Loads knowledge/*.md passages into a temporary table
(heading weighted A, body D, the `english` config), asks each labelled question as an OR of
its lexemes ranked by ts_rank_cd, and prints precision@1.

    python3 eval/scripts/knowledge_fts_baseline.py eval/corpus/knowledge-world.jsonl
"""
import glob, json, os, subprocess, sys, tempfile

sql_file = os.path.join(tempfile.mkdtemp(), 'q.sql')
def q(s): return "'" + s.replace("'","''") + "'"
passages=[]
for f in sorted(glob.glob('knowledge/*.md')):
    name=os.path.basename(f); cur=None; lines=[]
    for line in open(f):
        if line.startswith('## '):
            if cur: passages.append((name+'#'+cur,cur,''.join(lines)))
            cur=line[3:].strip(); lines=[]
        elif cur: lines.append(line)
    if cur: passages.append((name+'#'+cur,cur,''.join(lines)))
sql=["CREATE TEMP TABLE p(name text, tsv tsvector);"]
for n,h,b in passages:
    sql.append(f"INSERT INTO p VALUES ({q(n)}, setweight(to_tsvector('english',{q(h)}),'A') || setweight(to_tsvector('english',{q(b)}),'D'));")
rows=[]
for f in sys.argv[1:]:
    for line in open(f):
        d=json.loads(line)
        if 'id' not in d: continue
        rows.append(d)
        text=(d['email'].get('subject') or '')+' '+(d['email'].get('text') or '')
        sql.append(f"SELECT {q(d['id'])}, coalesce((SELECT name FROM p, (SELECT to_tsquery('simple', coalesce(string_agg(quote_literal(lexeme), ' | '),'x')) AS qq FROM unnest(to_tsvector('english', {q(text)}))) s ORDER BY ts_rank_cd(tsv, qq) DESC, name LIMIT 1),'');")
open(sql_file,'w').write('\n'.join(sql))
out=subprocess.run(['psql', os.environ.get('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/postgres'),'-At','-F','\t','-f',sql_file],capture_output=True,text=True).stdout
got={}
for l in out.splitlines():
    if '\t' in l:
        a,b=l.split('\t',1); got[a]=b
ans=[d for d in rows if d['expect']['passages']]
p1=sum(1 for d in ans if got.get(d['id']) in d['expect']['passages'])/len(ans)
print('FTS P@1', round(p1,3), 'of', len(ans))
